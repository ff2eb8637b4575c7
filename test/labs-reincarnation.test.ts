/**
 * The restart-policy extension point (microkernel/policy-module.ts) and the
 * reincarnation lab: the loader refuses a bad module with a message naming the
 * file and what is wrong; a policy that throws or returns garbage gives the
 * server up with the reason in the report; the shipped policy is the default;
 * and the lab's checks pass the reference, fail the starter and each broken
 * policy (one gives up at once, one never, one backs off past the deadline)
 * with its message, and give the same outcomes graded twice.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decideSafely, defaultRestartPolicy, loadRestartPolicy, type RestartRequest } from '../src/microkernel/policy-module.js';
import { decideRestart } from '../src/microkernel/supervisor.js';
import { parseRunOptions } from '../src/options.js';
import { ConfigError } from '../src/config.js';
import { run } from '../src/run.js';
import { reincarnationLab, reincarnationPlans } from '../src/labs/reincarnation.js';
import type { CheckOutcome, GradeContext, PointsFile } from '../src/labs/types.js';
import { findLab, loadPoints } from '../src/labs/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'microlith-policy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function moduleFile(name: string, text: string): string {
  const f = join(tmp, name);
  writeFileSync(f, text);
  return f;
}

const request = (history: number[], now: number): RestartRequest => ({
  server: 'disk',
  kind: 'crash',
  incarnation: history.length + 1,
  history,
  now,
  budget: { maxRestarts: 3, restartWindowMs: 5000 },
});

describe('loading a restart policy', () => {
  it('takes a named export `policy`, a default export, or an object with `decide`', async () => {
    const named = await loadRestartPolicy(moduleFile('named.mjs', 'export function policy() { return { restart: true, delayMs: 7 }; }'));
    const dflt = await loadRestartPolicy(moduleFile('default.mjs', 'export default () => ({ restart: false, reason: "no" });'));
    const obj = await loadRestartPolicy(moduleFile('obj.mjs', 'export const policy = { k: 2, decide(r) { return { restart: true, delayMs: this.k * r.history.length }; } };'));
    expect(named(request([], 0))).toEqual({ restart: true, delayMs: 7 });
    expect(dflt(request([], 0))).toEqual({ restart: false, reason: 'no' });
    expect(obj(request([1, 2], 3))).toEqual({ restart: true, delayMs: 4 });
  });

  it('refuses a bad module with an Error naming the file and what is wrong', async () => {
    const none = moduleFile('none.mjs', 'export const restart = 1;');
    await expect(loadRestartPolicy(none)).rejects.toThrow(`restart policy ${none}: no export \`policy\``);
    const num = moduleFile('num.mjs', 'export const policy = 3;');
    await expect(loadRestartPolicy(num)).rejects.toThrow(`restart policy ${num}: its export \`policy\` is a number, not a function or an object with a \`decide\` function`);
    const nodecide = moduleFile('nodecide.mjs', 'export default { decides() {} };');
    await expect(loadRestartPolicy(nodecide)).rejects.toThrow(`restart policy ${nodecide}: \`policy.decide\` must be a function, got nothing`);
    const broken = moduleFile('broken.mjs', 'export const policy = (;');
    await expect(loadRestartPolicy(broken)).rejects.toThrow(`restart policy ${broken} could not be loaded`);
    const missing = join(tmp, 'missing.ts');
    await expect(loadRestartPolicy(missing)).rejects.toThrow(`restart policy ${missing} could not be loaded`);
  });

  it('a run with a bad policy stops before any work, naming the file; the monolith refuses the option', async () => {
    const none = moduleFile('none2.mjs', 'export const x = 1;');
    await expect(run({ mode: 'microkernel', workload: 'nfs', requests: 10, restartPolicy: none })).rejects.toThrow(`restart policy ${none}: no export \`policy\``);
    expect(() => parseRunOptions({ mode: 'monolithic', restartPolicy: none })).toThrow(ConfigError);
    expect(() => parseRunOptions({ mode: 'monolithic', restartPolicy: none })).toThrow(/restartPolicy.*applies to the microkernel only/);
    expect(() => parseRunOptions({ mode: 'microkernel', restartPolicy: '' })).toThrow(/restartPolicy.*must be a path to a module file/);
    expect(parseRunOptions({ mode: 'microkernel', restartPolicy: none }).restartPolicy).toBe(none);
  });
});

describe('deciding with a policy', () => {
  it('the default policy is the shipped decideRestart', () => {
    const p = { maxRestarts: 3, restartWindowMs: 5000, backoffMs: 10, maxBackoffMs: 1000 };
    for (const [h, now] of [[[], 0], [[0], 100], [[0, 100], 200], [[0, 100, 200], 300], [[0, 100, 200], 5150]] as [number[], number][]) {
      expect(defaultRestartPolicy(request(h, now))).toEqual(decideRestart(h, now, p));
    }
    expect(defaultRestartPolicy(request([0, 100, 200], 300)).restart).toBe(false);
  });

  it('a policy that throws or returns garbage gives the server up, saying why', () => {
    const give = (f: (r: RestartRequest) => unknown) => decideSafely(f as never, request([], 0), 'the restart policy p.ts');
    expect(give(() => {
      throw new Error('boom');
    })).toEqual({ restart: false, reason: 'the restart policy p.ts threw: boom' });
    expect(give(() => undefined)).toEqual({ restart: false, reason: 'the restart policy p.ts returned nothing, not a decision' });
    expect(give(() => Promise.resolve({ restart: true, delayMs: 0 }))).toEqual({ restart: false, reason: 'the restart policy p.ts returned a Promise: a policy must decide synchronously' });
    expect(give(() => ({ restart: true, delayMs: -1 }))).toMatchObject({ restart: false, reason: expect.stringContaining('delayMs -1: it must be a number from 0 to') });
    expect(give(() => ({ restart: true, delayMs: NaN }))).toMatchObject({ restart: false, reason: expect.stringContaining('delayMs NaN') });
    expect(give(() => ({ restart: false }))).toEqual({ restart: false, reason: 'the restart policy p.ts returned { restart: false } without a string `reason`' });
    expect(give(() => ({ yes: 1 }))).toMatchObject({ restart: false, reason: expect.stringContaining('returned {"yes":1}: a decision is') });
    // a good decision passes through, stripped of anything else
    expect(give(() => ({ restart: true, delayMs: 5, extra: 1 }))).toEqual({ restart: true, delayMs: 5 });
  });

  it('in a run, a throwing policy gives the failed server up with the reason in the report, and the run ends', async () => {
    const thrower = moduleFile('thrower.mjs', 'export function policy(r) { throw new Error(`no idea what to do with ${r.server} (${r.kind})`); }');
    const r = await run({ mode: 'microkernel', workload: 'nfs', requests: 60, clients: 4, faults: ['disk:crash@message=20'], restartPolicy: thrower });
    expect(r.servers.disk.givenUp).toBe(true);
    expect(r.servers.disk.restarts).toBe(0);
    const f = r.faults.find((x) => x.server === 'disk')!;
    expect(f.outcome).toBe('given-up');
    expect(f.message).toContain(`given up: the restart policy ${thrower} threw: no idea what to do with disk (crash)`);
    expect(r.outcomes.pending).toBe(0);
    expect(r.config.restartPolicy).toBe(thrower);
  });
});

const FIXTURES = resolve('test/fixtures/labs/reincarnation');
const SEEDS = [1];

async function grade(dir: string): Promise<Record<string, CheckOutcome>> {
  const ctx: GradeContext = { dir, seeds: SEEDS };
  const out: Record<string, CheckOutcome> = {};
  for (const c of reincarnationLab.checks) out[c.name] = await c.run(ctx);
  return out;
}

const failed = (o: Record<string, CheckOutcome>) => Object.keys(o).filter((k) => !o[k].ok);
const message = (o: CheckOutcome) => (o.ok ? '' : o.message);

describe('the reincarnation lab', () => {
  it('is an implementation lab whose points file names every check once', () => {
    expect(reincarnationLab.name).toBe('reincarnation');
    expect(reincarnationLab.kind).toBe('implementation');
    expect(reincarnationLab.defaultSeeds.length).toBeGreaterThan(0);
    const points = JSON.parse(readFileSync('labs/reincarnation/points.json', 'utf8')) as PointsFile;
    expect(points.lab).toBe('reincarnation');
    expect(points.parts.flatMap((p) => p.checks.map((c) => c.name)).sort()).toEqual(reincarnationLab.checks.map((c) => c.name).sort());
    // registered, and its points file passes the registry's own check
    expect(findLab('reincarnation')).toBe(reincarnationLab);
    expect(loadPoints('reincarnation')).toEqual(points);
    expect(points.parts.flatMap((p) => p.checks).reduce((a, c) => a + c.points, 0)).toBe(100);
  });

  it('draws its plans from the seed: crashes of every server, and a crash loop of the disk past the budget', () => {
    const a = reincarnationPlans(1);
    expect(reincarnationPlans(1)).toEqual(a);
    expect(reincarnationPlans(2)).not.toEqual(a);
    for (const s of ['disk', 'net', 'app']) expect(a.recovery.filter((f) => f.startsWith(`${s}:crash@`))).toHaveLength(2);
    expect(a.loop.length).toBeGreaterThan(4);
    expect(a.loop.every((f) => f.startsWith('disk:crash@message='))).toBe(true);
  });

  it('the reference passes every check, and grading it twice gives the same outcomes', async () => {
    const first = await grade(join(FIXTURES, 'reference'));
    expect(failed(first)).toEqual([]);
    expect(await grade(join(FIXTURES, 'reference'))).toEqual(first);
  });

  it('the starter (restart at once, never give up) loads but fails the budget and the give-up', async () => {
    const o = await grade(resolve('labs/reincarnation/starter'));
    expect(failed(o)).toEqual(['budget', 'gives-up']);
  });

  it('a policy that never gives up fails the budget and the give-up, saying so', async () => {
    const o = await grade(join(FIXTURES, 'broken/never-gives-up'));
    expect(failed(o)).toEqual(['budget', 'gives-up']);
    expect(message(o.budget)).toMatch(/^seed 1: crash loop: disk was restarted \d+ times within 60000 ms: the budget is 3$/);
    expect(message(o['gives-up'])).toContain('the crash loop never gave up');
    expect(message(o['gives-up'])).toContain('calls kept waiting on a dead server');
  });

  it('a policy that gives up at the first failure fails the recovery, saying so', async () => {
    const o = await grade(join(FIXTURES, 'broken/gives-up-at-once'));
    expect(failed(o)).toEqual(['recovers']);
    expect(message(o.recovers)).toMatch(/^seed 1: recovery plan: \w+ was given up after 0 restarts \(\w+ failed once\), though the budget allows 3 within 60000 ms/);
  });

  it('a policy that backs off past the deadline (for net) fails the recovery on the requests left unanswered, saying which restarts came late', { timeout: 120_000 }, async () => {
    // the recovery check alone (the backoff makes its recovery run long): that the
    // other checks pass or fail as they should is the full grades' business above
    const recovers = reincarnationLab.checks.find((c) => c.name === 'recovers')!;
    const o = await recovers.run({ dir: join(FIXTURES, 'broken/backs-off-too-long'), seeds: SEEDS.slice(0, 1) });
    expect(o.ok).toBe(false);
    expect(message(o)).toMatch(
      /^seed 1: recovery plan \([^)]*\): (\d+ requests failed( and |, though ))?(\d+ (requests )?ended without an answer \(outcome unknown\) beyond the \d+ whose connection was reset \(\d+ resets, \d+ of them reads sent again\), though )?no server was given up: the policy delayed the restarts? after \w+:crash@message=\d+ by 6000 ms/,
    );
    // which deadline a request runs into first (the app's, a failure; the clients', unknown) is host timing; that some do is not
    expect(message(o)).toMatch(/\d+ (requests )?(failed|ended without an answer)/);
    expect(message(o)).toContain("which outlasts the clients' 5000 ms deadline");
  });

  it('a directory without policy.ts fails every check that runs the policy, naming the file', async () => {
    const o = await grade(tmp);
    expect(failed(o)).toEqual(reincarnationLab.checks.map((c) => c.name));
    expect(message(o.ended)).toContain(`restart policy ${join(tmp, 'policy.ts')} could not be loaded`);
  });
});
