/**
 * The problem labs: each seed's problem and answer are reproducible, the
 * answer is what the simulator counts (`run()`) for the seed's setting, and
 * `lab show` prints the arguments first, then the problem, then with -c the
 * answer; the reference answers get full marks and the starter less.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { run } from '../src/run.js';
import { findLab, grade, labDir, studentSeeds } from '../src/labs/index.js';
import { COPIES_LABELS, copiesProblem, copiesRunOptions, copiesSetting, solveCopies } from '../src/labs/copies.js';
import { ipcAndCopy, NOISE_LADDER, NOISE_SHARE, noiseProblem, noiseRunOptions, noiseSetting } from '../src/labs/in-the-noise.js';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main([...args, '--no-color'], { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'microlith-lab-problems-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('copies', () => {
  it('draws varied settings from seeds, the same for the same seed', () => {
    const settings = Array.from({ length: 40 }, (_, i) => copiesSetting(i));
    expect(new Set(settings.map((s) => s.label)).size).toBe(COPIES_LABELS.length);
    expect(new Set(settings.map((s) => s.size)).size).toBeGreaterThan(5);
    expect(copiesSetting(7)).toEqual(copiesSetting(7));
    expect(copiesSetting('7')).toEqual(copiesSetting(7));
  });

  it('gives the same problem and answer for the same seed, worked out twice', async () => {
    const a = await solveCopies(7);
    const b = await solveCopies(7);
    expect(b).toEqual(a);
    const other = await solveCopies(8);
    expect(other.text).not.toBe(a.text);
  });

  it("answers with what run() counts for the seed's setting", async () => {
    for (const seed of [7, 12]) {
      const st = copiesSetting(seed);
      const r = await run(copiesRunOptions(st));
      expect(r.status).toBe('ok');
      expect(r.outcomes.ok).toBe(st.requests);
      expect(r.mode).toBe(st.label === 'monolithic' ? 'monolithic' : 'microkernel');
      const p = await copiesProblem(seed);
      expect(p.expected).toEqual({ bytesCopied: r.perRequest.bytesCopied, ipcMessages: r.perRequest.ipcMessages, crossings: r.perRequest.crossings });
      expect(p.text).toContain(`"${seed}": { "bytesCopied": n`);
      expect(p.text).toContain(`Label: ${st.label}.`);
    }
  });

  it('lab show prints the arguments first, then the problem; -c adds the answer', async () => {
    const p = await copiesProblem(7);
    const shown = await cli('lab', 'show', 'copies', '-s', '7');
    expect(shown.code).toBe(0);
    expect(shown.stdout.split('\n')[0]).toBe('ARG lab copies, seed 7');
    expect(shown.stdout).toContain(p.text);
    expect(shown.stdout).not.toContain(p.answer);
    expect(shown.stdout).toMatch(/-c prints the answer/);
    const solved = await cli('lab', 'show', 'copies', '-s', '7', '-c');
    expect(solved.stdout.split('\n')[0]).toBe('ARG lab copies, seed 7, compute');
    expect(solved.stdout).toContain(p.text);
    expect(solved.stdout).toContain(p.answer);
    // the printed answer is the run's count
    const r = await run(copiesRunOptions(copiesSetting(7)));
    expect(solved.stdout).toMatch(new RegExp(`ipcMessages\\s+${r.perRequest.ipcMessages.toLocaleString('en-US').replace('.', '\\.')}\\s`));
    expect(solved.stdout).toMatch(new RegExp(`bytesCopied\\s+${r.perRequest.bytesCopied.toLocaleString('en-US')}\\s`));
    // twice the same
    expect((await cli('lab', 'show', 'copies', '-s', '7', '-c')).stdout).toBe(solved.stdout);
  });

  it("lab show --student shows each of the student's problems", async () => {
    const seeds = studentSeeds('copies', 'carol');
    const r = await cli('lab', 'show', 'copies', '--student', 'carol');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`ARG lab copies, student carol (seeds ${seeds.join(', ')})`);
    for (const s of seeds) expect(r.stdout).toContain(`Seed ${s}:\n`);
  });

  it('the default seed is the first of the defaults', async () => {
    const r = await cli('lab', 'show', 'copies');
    expect(r.stdout.split('\n')[0]).toBe(`ARG lab copies, seed ${findLab('copies').defaultSeeds[0]}`);
  });
});

describe('in-the-noise', () => {
  const seed = 4;

  it('draws two different profiles and a ladder size from the seed', () => {
    for (let s = 0; s < 30; s++) {
      const st = noiseSetting(s);
      expect(st.profiles[0]).not.toBe(st.profiles[1]);
      expect(NOISE_LADDER).toContain(st.size);
    }
    expect(noiseSetting(seed)).toEqual(noiseSetting(seed));
  });

  it("prices the run of the seed's file size as run() and the profiles do, and finds the first rung in the noise", async () => {
    const st = noiseSetting(seed);
    const p = await noiseProblem(seed);
    expect(Object.keys(p.expected).sort()).toEqual(st.profiles.flatMap((q) => [`copyUsPerRequest_${q}`, `ipcUsPerRequest_${q}`, `thresholdBytes_${q}`]).sort());
    // the seed's own size, run afresh under each profile: run() prices it itself
    for (const profile of st.profiles) {
      const r = await run({ ...noiseRunOptions(st.size), profile });
      const m = r.modelled.perRequestUs;
      expect(p.expected[`ipcUsPerRequest_${profile}`]).toBeCloseTo(m.ipc + m.contextSwitches + m.syscalls, 2);
      expect(p.expected[`copyUsPerRequest_${profile}`]).toBeCloseTo(m.copies, 2);
      expect(ipcAndCopy(r, profile).ipcUs).toBe(p.expected[`ipcUsPerRequest_${profile}`]);
      // the threshold: in the noise there, not one rung below
      const t = p.expected[`thresholdBytes_${profile}`];
      expect(NOISE_LADDER).toContain(t);
      for (const size of [t, t / 2].filter((x) => x >= NOISE_LADDER[0])) {
        const rr = await run({ ...noiseRunOptions(size), profile });
        const x = rr.modelled.perRequestUs;
        const inNoise = x.ipc + x.contextSwitches + x.syscalls < NOISE_SHARE * x.copies;
        expect(inNoise, `${profile} at ${size} B`).toBe(size === t);
      }
    }
  });

  it('lab show -c prints the arguments, the problem and the ladder', async () => {
    const p = await noiseProblem(seed);
    const r = await cli('lab', 'show', 'in-the-noise', '-s', String(seed), '-c');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`ARG lab in-the-noise, seed ${seed}, compute`);
    expect(r.stdout).toContain(p.text);
    expect(r.stdout).toContain(p.answer);
    expect(r.stdout).toMatch(/<- threshold/);
  });

  it('grades the reference answers with full marks, a wrong threshold with a message naming it', async () => {
    const lab = findLab('in-the-noise');
    const answers: Record<string, Record<string, number>> = {};
    for (const s of lab.defaultSeeds) answers[String(s)] = { ...(await noiseProblem(s)).expected };
    const dir = join(tmp, 'noise-ref');
    mkdirSync(dir);
    writeFileSync(join(dir, 'answers.json'), JSON.stringify(answers));
    const full = await grade(lab, { dir });
    expect(full.score).toBe(full.max);
    expect(full.max).toBe(10);
    const [first] = lab.defaultSeeds;
    const key = Object.keys(answers[String(first)]).find((k) => k.startsWith('thresholdBytes_'))!;
    const right = answers[String(first)][key];
    answers[String(first)][key] = right * 2;
    writeFileSync(join(dir, 'answers.json'), JSON.stringify(answers));
    const r = await grade(lab, { dir });
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([['ipc-us', true], ['copy-us', true], ['threshold', false]]);
    expect(r.checks[2].message).toContain(`seed ${first}, ${key}: expected ${right} (exactly), got ${right * 2}; hint: `);
    expect(r.score).toBe(6);
  });

  it('grades the starter (every answer null) below full marks, each check saying no answer was given', async () => {
    const lab = findLab('in-the-noise');
    const r = await grade(lab, { dir: join(labDir('in-the-noise'), 'starter') });
    expect(r.max).toBe(10);
    expect(r.score).toBeLessThan(r.max);
    expect(r.score).toBe(0);
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([['ipc-us', false], ['copy-us', false], ['threshold', false]]);
    for (const c of r.checks) expect(c.message).toMatch(new RegExp(`^seed ${lab.defaultSeeds[0]}, \\w+_[\\w.-]+: no answer \\(expected `));
  });
});
