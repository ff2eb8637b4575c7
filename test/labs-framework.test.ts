/**
 * The lab framework: the registry, points files, per-student seeds, the
 * grader and its gradelib-style text, and the `lab` and `grade` commands
 * (in-process, through `main()`), on the copies lab.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { findLab, grade, labDir, LABS, loadPoints, studentSeeds } from '../src/labs/index.js';
import { formatGrade } from '../src/labs/format.js';
import type { GradeResults, Lab } from '../src/labs/types.js';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main([...args, '--no-color'], { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

/** Grade text with the host times in parentheses blanked. */
const timeless = (text: string) => text.replace(/\((\d+\.\d)s\)/g, '(_s)');

let tmp: string;
const copies = findLab('copies');

/** A directory whose answers.json holds `answers`. */
function submission(name: string, answers: unknown): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'answers.json'), JSON.stringify(answers, null, 2));
  return dir;
}

/** The reference answers of `lab` for `seeds`: what its problems expect. */
async function reference(lab: Lab, seeds: (number | string)[]): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of seeds) out[String(s)] = { ...(await lab.problem!(s)).expected };
  return out;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'microlith-labs-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the registry', () => {
  it('lists every lab with its difficulty, kind and title', async () => {
    const r = await cli('lab', 'list');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^lab\s+difficulty\s+kind\s+title$/);
    for (const l of LABS) expect(lines.some((x) => x.startsWith(l.name) && x.includes(l.difficulty) && x.includes(l.kind) && x.endsWith(l.title))).toBe(true);
    expect(lines.find((x) => x.startsWith('copies '))).toMatch(/easy\s+problem/);
    expect(lines.find((x) => x.startsWith('in-the-noise '))).toMatch(/moderate\s+problem/);
  });

  it('refuses an unknown lab, listing the labs', async () => {
    expect(() => findLab('copys')).toThrow(/no lab named 'copys' \(labs: copies, in-the-noise/);
    for (const args of [['lab', 'show', 'copys'], ['grade', 'copys', '--dir', tmp]]) {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toMatch(/^microlith: no lab named 'copys' \(labs: copies, in-the-noise/);
    }
  });

  it("finds each lab's directory and a points file that matches its checks", () => {
    for (const l of LABS) {
      expect(existsSync(join(labDir(l.name), 'README.md')), l.name).toBe(true);
      const p = loadPoints(l);
      expect(p.lab).toBe(l.name);
      expect(p.parts.flatMap((x) => x.checks.map((c) => c.name)).sort()).toEqual(l.checks.map((c) => c.name).sort());
    }
  });

  it("has a handout with background from the 1996 argument, exercises of each difficulty, hints and what to hand in", () => {
    for (const l of LABS) {
      const text = readFileSync(join(labDir(l.name), 'README.md'), 'utf8');
      const section = (h: string) => text.split(/^## /m).find((x) => x.startsWith(h)) ?? '';
      expect(section('Background'), l.name).toMatch(/1996/);
      for (const level of ['easy', 'moderate', 'hard']) expect(section('Exercises'), `${l.name}: ${level}`).toContain(`*(${level})*`);
      expect(section('Hints').length, `${l.name}: hints`).toBeGreaterThan(20);
      expect(section('What to hand in').length, `${l.name}: what to hand in`).toBeGreaterThan(20);
    }
  });

  it('refuses a points file that does not match the lab, naming the file and the checks', () => {
    const extra: Lab = { ...copies, checks: [...copies.checks, { name: 'latency', title: 'x', run: async () => ({ ok: true }) }] };
    expect(() => loadPoints(extra)).toThrow(/labs\/copies\/points\.json does not match lab 'copies'.*no points for check latency/);
    const fewer: Lab = { ...copies, checks: copies.checks.filter((c) => c.name !== 'crossings') };
    expect(() => loadPoints(fewer)).toThrow(/points for checks? the lab does not have: crossings/);
    const file = join(tmp, 'points.json');
    writeFileSync(file, JSON.stringify({ lab: 'copies', parts: [{ name: 'all', checks: [{ name: 'ipc-messages', points: 1 }, { name: 'ipc-messages', points: 1 }] }] }));
    expect(() => loadPoints(copies, file)).toThrow(new RegExp(`${file.replace(/[.\\/]/g, '\\$&')}.*no points for checks crossings, bytes-copied.*listed twice: ipc-messages`));
    writeFileSync(file, JSON.stringify({ lab: 'copies', parts: [{ name: 'all', checks: [{ name: 'ipc-messages', points: -1 }] }] }));
    expect(() => loadPoints(copies, file)).toThrow(/parts\.0\.checks\.0\.points/);
  });
});

describe('per-student seeds', () => {
  it('are three, stable, and differ between students and between labs', () => {
    const a = studentSeeds('copies', 'alice');
    expect(a).toHaveLength(3);
    expect(new Set(a).size).toBe(3);
    expect(studentSeeds('copies', 'alice')).toEqual(a);
    expect(studentSeeds(copies, 'alice')).toEqual(a);
    const b = studentSeeds('copies', 'bob');
    expect(b).not.toEqual(a);
    expect(a.filter((s) => b.includes(s))).toEqual([]);
    expect(studentSeeds('in-the-noise', 'alice')).not.toEqual(a);
    for (const s of a) expect(Number.isInteger(s) && s >= 0 && s < 1_000_000).toBe(true);
  });
});

describe('grading copies', () => {
  const seeds = studentSeeds('copies', 'alice');
  let refDir: string;

  beforeAll(async () => {
    refDir = submission('reference', await reference(copies, seeds));
  });

  it('gives full marks and exit 0 to the reference answers', async () => {
    const r = await cli('grade', 'copies', '--dir', refDir, '--student', 'alice');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^== Test IPC messages per request == ipc-messages: OK \(\d+\.\ds\)$/);
    expect(lines.filter((l) => / OK \(/.test(l))).toHaveLength(copies.checks.length);
    expect(lines).toContain('Part messages: 4/4');
    expect(lines).toContain('Part copies: 4/4');
    expect(lines[lines.length - 1]).toBe('Score: 8/8');
  });

  it('gives the starter less, and exit 1', async () => {
    const dir = join(tmp, 'starter');
    expect((await cli('lab', 'init', 'copies', dir, '--student', 'alice')).code).toBe(0);
    const r = await cli('grade', 'copies', '--dir', dir, '--student', 'alice');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Score: 0\/8$/m);
    expect(r.stdout).toMatch(new RegExp(`^    seed ${seeds[0]}, ipcMessages: no answer \\(expected `, 'm'));
  });

  it('fails the check of a wrong answer, naming the seed, the key, the expected and given values', async () => {
    const answers = await reference(copies, seeds);
    const expected = answers[String(seeds[1])].bytesCopied;
    answers[String(seeds[1])].bytesCopied = expected * 1.05 + 100;
    const dir = submission('wrong-bytes', answers);
    const r = await cli('grade', 'copies', '--dir', dir, '--student', 'alice');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^== Test bytes copied per request == bytes-copied: FAIL \(\d+\.\ds\)$/m);
    expect(r.stdout).toMatch(/ipc-messages: OK/);
    const message = r.stdout.split('\n').find((l) => l.startsWith('    seed '))!;
    expect(message).toContain(`seed ${seeds[1]}, bytesCopied: expected ${expected} (within 1%), got ${expected * 1.05 + 100}; hint: `);
    expect(r.stdout).toMatch(/^Part messages: 4\/4$/m);
    expect(r.stdout).toMatch(/^Part copies: 0\/4$/m);
    expect(r.stdout).toMatch(/^Score: 4\/8$/m);
  });

  it('takes an exact answer only exactly, and bytes within 1%', async () => {
    const answers = await reference(copies, seeds);
    const mine = answers[String(seeds[0])];
    mine.bytesCopied = mine.bytesCopied * 1.009;
    mine.ipcMessages = mine.ipcMessages + 0.001;
    const r = await grade(copies, { dir: submission('tolerances', answers), student: 'alice' });
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([['ipc-messages', false], ['crossings', true], ['bytes-copied', true]]);
    expect(r.checks[0].message).toMatch(new RegExp(`^seed ${seeds[0]}, ipcMessages: expected [\\d.]+ \\(exactly\\), got `));
  });

  it('says what is wrong with a missing or broken answers.json', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const r = await grade(copies, { dir: empty });
    expect(r.score).toBe(0);
    expect(r.checks[0].message).toMatch(/^no answers\.json in /);
    const broken = join(tmp, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'answers.json'), '{ "1": ');
    expect((await grade(copies, { dir: broken })).checks[0].message).toMatch(/^answers\.json is not valid JSON/);
  });

  it('gives the same output twice but for the times, and --results JSON shaped as GradeResults', async () => {
    const file = join(tmp, 'results.json');
    const a = await cli('grade', 'copies', '--dir', refDir, '--student', 'alice', '--results', file);
    const b = await cli('grade', 'copies', '--dir', refDir, '--student', 'alice');
    expect(timeless(a.stdout)).toBe(timeless(b.stdout));
    expect(a.stdout).toMatch(/\(\d+\.\ds\)/);
    const r = JSON.parse(readFileSync(file, 'utf8')) as GradeResults;
    expect(Object.keys(r).sort()).toEqual(['checks', 'kind', 'lab', 'max', 'parts', 'schemaVersion', 'score', 'seeds', 'student'].sort());
    expect(r).toMatchObject({ schemaVersion: 1, kind: 'microlith-grade', lab: 'copies', student: 'alice', seeds, score: 8, max: 8 });
    expect(r.parts).toEqual([{ name: 'messages', score: 4, max: 4 }, { name: 'copies', score: 4, max: 4 }]);
    for (const c of r.checks) {
      expect(Object.keys(c).sort()).toEqual(['earned', 'message', 'name', 'ok', 'part', 'points', 'seconds', 'title']);
      expect(c).toMatchObject({ ok: true, message: null, earned: c.points });
      expect(typeof c.seconds).toBe('number');
    }
    // the text is formatGrade of the results
    expect(timeless(a.stdout.trimEnd())).toBe(timeless(formatGrade(r)));
  });

  it('--seeds adds seeds to the student\'s', async () => {
    const file = join(tmp, 'results-hidden.json');
    const r = await cli('grade', 'copies', '--dir', refDir, '--student', 'alice', '--seeds', '901,x7', '--results', file);
    expect(r.code).toBe(1);
    const results = JSON.parse(readFileSync(file, 'utf8')) as GradeResults;
    expect(results.seeds).toEqual([...seeds, 901, 'x7']);
    expect(results.checks.every((c) => !c.ok)).toBe(true);
    expect(results.checks[0].message).toMatch(/^seed 901, ipcMessages: no answers for seed 901 in answers\.json/m);
    expect(results.checks[0].message).toMatch(/^seed x7, ipcMessages: no answers for seed x7/m);
    // with the hidden seeds answered too: full marks
    const all = submission('with-hidden', await reference(copies, [...seeds, 901, 'x7']));
    expect((await cli('grade', 'copies', '--dir', all, '--student', 'alice', '--seeds', '901,x7')).code).toBe(0);
  });

  it('runs only the checks a filter matches, and refuses one that matches none', async () => {
    const r = await cli('grade', 'copies', 'bytes', '--dir', refDir, '--student', 'alice');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bytes-copied: OK/);
    expect(r.stdout).not.toMatch(/ipc-messages/);
    expect(r.stdout.trimEnd().split('\n').slice(-2)).toEqual(['Part copies: 4/4', 'Score: 4/4']);
    const none = await cli('grade', 'copies', 'latency', '--dir', refDir);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^microlith: grade: no check of lab copies matches 'latency' \(checks: ipc-messages, crossings, bytes-copied\)/);
  });

  it('refuses a directory that does not exist (exit 2, one line)', async () => {
    const r = await cli('grade', 'copies', '--dir', join(tmp, 'nowhere'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^microlith: grade: no directory .*nowhere/);
    await expect(grade(copies, { dir: join(tmp, 'nowhere') })).rejects.toThrow(/no directory/);
  });
});

describe('lab init', () => {
  it('copies the handout and the starter files, and refuses a directory that is not empty', async () => {
    const dir = join(tmp, 'init');
    const r = await cli('lab', 'init', 'copies', dir);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe(readFileSync(join(labDir('copies'), 'README.md'), 'utf8'));
    expect(readFileSync(join(dir, 'answers.json'), 'utf8')).toBe(readFileSync(join(labDir('copies'), 'starter', 'answers.json'), 'utf8'));
    writeFileSync(join(dir, 'answers.json'), '{"mine": 1}');
    const again = await cli('lab', 'init', 'copies', dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^microlith: lab init: .* is not empty: .*--force/);
    expect(readFileSync(join(dir, 'answers.json'), 'utf8')).toBe('{"mine": 1}');
    expect((await cli('lab', 'init', 'copies', dir, '--force')).code).toBe(0);
    expect(readFileSync(join(dir, 'answers.json'), 'utf8')).not.toBe('{"mine": 1}');
  });

  it("with --student, keys the placeholder answers by the student's seeds", async () => {
    const dir = join(tmp, 'init-bob');
    expect((await cli('lab', 'init', 'copies', dir, '--student', 'bob')).code).toBe(0);
    const answers = JSON.parse(readFileSync(join(dir, 'answers.json'), 'utf8')) as Record<string, Record<string, null>>;
    expect(Object.keys(answers).sort()).toEqual(studentSeeds('copies', 'bob').map(String).sort());
    for (const v of Object.values(answers)) expect(v).toEqual({ bytesCopied: null, ipcMessages: null, crossings: null });
  });

  it('needs a lab and a directory', async () => {
    const r = await cli('lab', 'init', 'copies');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^microlith: lab init: say where: microlith lab init copies DIR/);
    const bad = await cli('lab', 'frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/frobnicate/);
  });
});
