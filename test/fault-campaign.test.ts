/**
 * The fault-injection campaign (faults/campaign.ts) and `microlith faults`:
 * a small campaign through the library, its classification checked against
 * the run reports it was made from; the classifier on hand-made reports (a
 * lost write, a crash where the design promises survival, a hang); the replay
 * command run in-process through the CLI; and the CLI's own answers.
 *
 * The schedules are of seed 30 at 60 requests: crashes and exits only, no
 * hang (which would cost a heartbeat timeout) and no oom (which costs a heap).
 */
import { stripVTControlCharacters } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { ConfigError } from '../src/config.js';
import {
  campaign,
  classifyRun,
  DEFAULT_CAMPAIGN_SETTINGS,
  scheduleFault,
  summariseCampaign,
  type CampaignConfig,
  type CampaignProgress,
  type CampaignReport,
  type CampaignRun,
} from '../src/faults/campaign.js';
import { formatFaultSpec, parseFaultSpec } from '../src/faults/plan.js';
import { formatCampaign } from '../src/report/campaign.js';
import type { RunReport } from '../src/run.js';

const SEED = 30;
const REQUESTS = 60;
const SCHEDULES = 4;
// no schedule here hangs on purpose: a long heartbeat timeout only keeps a loaded machine from faking one
const SETTINGS = { ...DEFAULT_CAMPAIGN_SETTINGS, hangTimeoutMs: 3000 };

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

/** A command line as a POSIX shell splits it (words, single quotes). */
function shellSplit(line: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]);
  return words;
}

const clone = <T>(x: T): T => structuredClone(x);

describe('a campaign of 4 schedules under both kernels', () => {
  let report: CampaignReport;
  const progress: CampaignProgress[] = [];

  beforeAll(async () => {
    report = await campaign({ schedules: SCHEDULES, seed: SEED, requests: REQUESTS, settings: SETTINGS, onSchedule: (p) => progress.push(p) });
  });

  const reportsOf = (mode: string) => progress.flatMap((p) => p.reports.filter((r): r is RunReport => r?.mode === mode));

  it('runs every schedule under each mode, the same fault in both, drawn from the schedule seed', () => {
    expect(report.complete).toBe(true);
    expect(report.schedulesRun).toBe(SCHEDULES);
    expect(progress.map((p) => p.schedule)).toEqual([1, 2, 3, 4]);
    expect(report.runs).toHaveLength(2 * SCHEDULES);
    for (const p of progress) {
      const spec = formatFaultSpec(scheduleFault(SEED, p.schedule, REQUESTS));
      expect(p.spec).toBe(spec);
      expect(p.runs.map((r) => r.mode)).toEqual(['monolithic', 'microkernel']);
      expect(p.reports.map((r) => r?.faultPlan.map((f) => f.spec))).toEqual([[spec], [spec]]);
      for (const r of p.reports) {
        expect(r?.config).toMatchObject({ seed: SEED, requests: REQUESTS, workload: 'mixed', ...SETTINGS });
      }
    }
  });

  it('activated is the reports\' struck count; the row sums are the totals', () => {
    for (const mode of ['monolithic', 'microkernel'] as const) {
      const struck = reportsOf(mode).filter((r) => r.faultPlan[0].struck).length;
      const rows = report.rows.filter((r) => r.mode === mode);
      const total = report.totals[mode]!;
      expect(rows.reduce((n, r) => n + r.activated, 0)).toBe(struck);
      expect(total.activated).toBe(struck);
      expect(rows.reduce((n, r) => n + r.injected, 0)).toBe(SCHEDULES);
      expect(total.injected).toBe(SCHEDULES);
      const outcomes = reportsOf(mode).map((r) => r.outcomes);
      expect(total.requests).toEqual({
        ok: outcomes.reduce((n, o) => n + o.ok, 0),
        fail: outcomes.reduce((n, o) => n + o.fail, 0),
        info: outcomes.reduce((n, o) => n + o.info, 0),
      });
    }
    // the seed was chosen so that faults strike in both kernels
    expect(report.totals.monolithic!.activated).toBeGreaterThan(0);
    expect(report.totals.microkernel!.activated).toBeGreaterThan(0);
  });

  it('meets the expectations: the monolith crashes on every activated fault, the microkernel survives every one', () => {
    const mono = report.totals.monolithic!;
    const micro = report.totals.microkernel!;
    expect(mono.systemCrashes).toBe(mono.activated);
    expect(micro.survived).toBe(micro.activated);
    expect(micro.systemCrashes).toBe(0);
    for (const t of [mono, micro]) expect([t.hangs, t.lostWrites]).toEqual([0, 0]);
    expect(report.broken).toEqual([]);
    expect(report.expectationsMet).toBe(true);
  });

  it('the recovery times are those of the microkernel reports that restarted a server', () => {
    const micro = reportsOf('microkernel');
    for (const s of ['disk', 'net', 'app'] as const) {
      const restarted = micro.filter((r) => r.servers[s].recoveryMs !== null);
      const q = report.recoveryMs![s];
      if (restarted.length === 0) expect(q).toBeNull();
      else {
        expect(q!.count).toBe(restarted.length);
        expect(q!.max).toBe(Math.max(...restarted.map((r) => r.servers[s].recoveryMs!.max)));
      }
    }
    expect(Object.values(report.recoveryMs!).some((q) => q !== null)).toBe(true);
  });

  it('the classifier breaks a run on a hand-made report: lost writes, a crash, a hang, a monolith that stays up', () => {
    const [monoReport, microReport] = progress.find((p) => p.reports.every((r) => r?.faultPlan[0].struck))!.reports as RunReport[];
    const spec = parseFaultSpec(microReport.faultPlan[0].spec);

    const lost = clone(microReport);
    lost.durability = { ...(lost.durability ?? { ackedWrites: 1, verified: 0, superseded: 0, bytesChecked: 0, firstLoss: null }), lost: 1 };
    const l = classifyRun('microkernel', spec, { report: lost, aborted: false });
    expect(l).toMatchObject({ activated: true, survived: false, lostWrites: 1, hang: false });
    expect(l.problem).toMatch(/^lost 1 acknowledged write\b/);

    const down = clone(microReport);
    down.faults = [{ ...down.faults[0], outcome: 'system-down' }];
    expect(classifyRun('microkernel', spec, { report: down, aborted: false })).toMatchObject({ survived: false, systemCrash: true, problem: 'system crash' });

    const pending = clone(microReport);
    pending.outcomes = { ...pending.outcomes, pending: 2 };
    expect(classifyRun('microkernel', spec, { report: pending, aborted: false })).toMatchObject({ survived: false, hang: true, problem: 'hang: 2 requests never settled' });
    expect(classifyRun('microkernel', spec, { report: clone(microReport), aborted: true })).toMatchObject({ survived: false, hang: true });
    expect(classifyRun('monolithic', spec, { report: null, aborted: true })).toMatchObject({ activated: false, hang: true, status: null });

    const up = clone(monoReport);
    up.faults = [];
    expect(classifyRun('monolithic', spec, { report: up, aborted: false }).problem).toMatch(/^the monolith did not go down/);

    // as they came: nothing broken
    expect(classifyRun('monolithic', spec, { report: monoReport, aborted: false })).toMatchObject({ activated: true, systemCrash: true, problem: null });
    expect(classifyRun('microkernel', spec, { report: microReport, aborted: false })).toMatchObject({ activated: true, survived: true, problem: null });
  });

  it('a broken run is listed with a replay command that the CLI runs as the same run', async () => {
    const p = progress.find((x) => x.reports[0]?.faultPlan[0].struck)!;
    const monoReport = p.reports[0]!;
    const spec = parseFaultSpec(p.spec);
    const up = clone(monoReport);
    up.faults = [];
    const broken: CampaignRun = { schedule: p.schedule, wallMs: 1, ...classifyRun('monolithic', spec, { report: up, aborted: false }) };
    const summary = summariseCampaign(report.config, [broken], { schedulesRun: 1, recoveryMs: { disk: [], net: [], app: [] }, elapsedMs: 1 });
    expect(summary.expectationsMet).toBe(false);
    expect(summary.totals.monolithic!.met).toBe(false);
    expect(summary.broken).toHaveLength(1);
    const b = summary.broken[0];
    expect(b).toMatchObject({ schedule: p.schedule, mode: 'monolithic', spec: p.spec });
    expect(b.problem).toMatch(/did not go down/);
    const argv = shellSplit(b.replay);
    expect(argv.slice(0, 2)).toEqual(['microlith', 'run']);

    // the command replays the run: the same configuration, and the same fault striking
    const replayed = await cli(...argv.slice(1), '--json', '--quiet');
    expect(replayed.code, replayed.stderr).toBe(1); // the monolith panicked: a failed run
    const again = JSON.parse(replayed.stdout) as RunReport;
    expect(again.mode).toBe('monolithic');
    expect(again.config).toMatchObject({ workload: 'mixed', seed: SEED, requests: REQUESTS, ...SETTINGS, faults: [spec] });
    expect(again.faultPlan.map((f) => [f.spec, f.struck])).toEqual([[p.spec, true]]);
    expect(again.faults.some((f) => f.outcome === 'system-down')).toBe(true);

    // and the text lists it, within 100 columns, the command broken only where a shell joins it again
    const text = stripVTControlCharacters(formatCampaign(summary));
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(text).toMatch(/NOT as expected/);
    expect(text.replace(/ \\\n +/g, ' ').split('\n')).toContain(`    ${b.replay}`);
  });

  it('the text has a table per mode, the verdicts and the recovery times, within 100 columns', () => {
    const text = stripVTControlCharacters(formatCampaign(report));
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(text).toMatch(/^monolithic kernel$/m);
    expect(text).toMatch(/^server +fault +injected +activated +system crash +hangs +lost writes +ok +fail +info$/m);
    expect(text).toMatch(/^server +fault +injected +activated +survived +hangs +lost writes +ok +fail +info$/m);
    const micro = report.totals.microkernel!;
    expect(text).toContain(`microkernel: ${micro.survived} of ${micro.activated} activated fault${micro.activated === 1 ? '' : 's'} survived, 0 hangs, 0 lost writes — as expected`);
    expect(text).toMatch(/^monolithic: \d+ of \d+ activated faults? crashed the system, 0 hangs, 0 lost writes — as expected$/m);
    expect(text).toMatch(/microkernel recovery, host-measured ms/);
  });
});

describe('options and stopping', () => {
  it('bad options are refused before any run, named by their field', async () => {
    await expect(campaign({ schedules: 0 })).rejects.toThrow(new ConfigError('schedules', { reason: 'must be an integer from 1 to 10000', given: 0 }));
    await expect(campaign({ schedules: 1, modes: [] })).rejects.toThrow(/^modes must list one or both of monolithic, microkernel/);
    await expect(campaign({ schedules: 1, settings: { hangTimeoutMs: 0 } })).rejects.toThrow(/^hangTimeoutMs must be an integer from 1 to 3600000, got 0$/);
    await expect(campaign({ schedules: 1, retries: 2 } as never)).rejects.toThrow(/^retries is not an option$/);
  });

  it('an abort stops after the schedule in progress: the report says how far it got', async () => {
    const stop = new AbortController();
    const r = await campaign({ schedules: 50, modes: ['monolithic'], seed: SEED, requests: REQUESTS, settings: SETTINGS, abortSignal: stop.signal, onSchedule: () => stop.abort() });
    expect(r).toMatchObject({ complete: false, schedulesRun: 1, expectationsMet: false });
    expect(r.runs).toHaveLength(1);
    expect(r.totals.monolithic!.injected).toBe(1);
  });

  it('a run not done within the guard is stopped and counted a hang', async () => {
    const r = await campaign({ schedules: 1, modes: ['monolithic'], seed: SEED, requests: REQUESTS, settings: SETTINGS, guardMs: 1 });
    expect(r.runs[0]).toMatchObject({ hang: true, survived: false });
    expect(r.totals.monolithic).toMatchObject({ hangs: 1, met: false });
    expect(r.broken.map((b) => b.problem)).toEqual([expect.stringMatching(/^hang: the run had to be stopped by the campaign's guard/)]);
    expect(r.expectationsMet).toBe(false);
  });

  it('the CLI stopped before it starts: exit 130, and it says how far it got', async () => {
    let stderr = '';
    const stop = new AbortController();
    stop.abort();
    const code = await main(['faults', '--campaign', '5'], { out: () => {}, err: (t) => void (stderr += t) }, stop);
    expect(code).toBe(130);
    expect(stderr).toMatch(/^microlith: stopped: 0 of 5 schedules finished/);
  });
});

describe('microlith faults', () => {
  it('--campaign 2 --json: the campaign report on stdout, the text on stderr, exit 0', async () => {
    const a = await cli('faults', '--campaign', '2', '--json', '--mode', 'monolithic', '--seed', String(SEED), '--requests', String(REQUESTS));
    expect(a.code, a.stderr).toBe(0);
    const r = JSON.parse(a.stdout) as CampaignReport;
    expect(r).toMatchObject({ kind: 'fault-campaign', complete: true, schedulesRun: 2, expectationsMet: true });
    const config: CampaignConfig = { schedules: 2, modes: ['monolithic'], workload: 'mixed', seed: SEED, requests: REQUESTS, settings: DEFAULT_CAMPAIGN_SETTINGS, guardMs: 60_000 };
    expect(r.config).toEqual(config);
    expect(r.runs.map((x) => x.spec)).toEqual([1, 2].map((i) => formatFaultSpec(scheduleFault(SEED, i, REQUESTS))));
    expect(r.recoveryMs).toBeNull();
    expect(stripVTControlCharacters(a.stderr)).toMatch(/^monolithic: \d+ of \d+ activated faults? crashed the system/m);
  });

  it('bad usage: one line naming the flag, exit 2, no work', async () => {
    const cases: [string[], RegExp][] = [
      [['faults'], /^microlith: faults: --campaign N is required: the schedules to run \(an integer from 1 to 10000\)$/],
      [['faults', '--campaign', '0'], /^microlith: --campaign must be an integer from 1 to 10000, got 0$/],
      [['faults', '--campaign', 'many'], /^microlith: --campaign must be an integer from 1 to 10000, got 'many'$/],
      [['faults', '--campaign', '3', '--mode', 'exokernel'], /^microlith: --mode 'exokernel' is not one of monolithic, microkernel$/],
      [['faults', '--campaign', '3', '--requests', '0'], /^microlith: --requests must be an integer from 1 to 10000000, got 0$/],
      [['faults', '--campaign', '3', '--workload', 'nosuch'], /^microlith: .*nosuch/],
      [['faults', '--campaing', '3'], /^microlith: faults: unknown flag --campaing: did you mean --campaign\?$/],
    ];
    for (const [argv, problem] of cases) {
      const a = await cli(...argv);
      expect(a.code, `${argv.join(' ')}: ${a.stderr}`).toBe(2);
      expect(a.stdout).toBe('');
      const lines = a.stderr.trimEnd().split('\n');
      expect(lines, a.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(problem);
    }
  });
});
