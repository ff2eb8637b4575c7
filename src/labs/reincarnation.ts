/**
 * The reincarnation lab (implementation): the student writes the supervisor's
 * restart policy (`policy.ts` in their directory, loaded through the
 * `restartPolicy` extension point, microkernel/policy-module.ts), and the
 * checks replay seeded fault plans on a workload that writes (nfs):
 *
 *   recovery   a few crashes of each server, fewer than the budget allows:
 *              every server must come back, no request may fail, and none
 *              may end unknown but those whose connection was reset
 *   crash loop the disk crashing again and again within a short time, past
 *              the budget: the disk must be given up, and calls to it must
 *              then fail fast (ESERVERFAILED) rather than wait out deadlines
 *   monolith   the crash loop's plan under the monolith, for contrast: its
 *              first crash takes the whole system down
 *
 * Every criterion is counted (outcomes, restarts, given up, lost writes),
 * never host timing: the restart window is long enough to hold a whole run,
 * so "restarts within any window" is a count too.
 */
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { run, type RunReport, type RunOptions } from '../run.js';
import { SERVER_NAMES, type ServerName } from '../protocol.js';
import { decideSafely, loadRestartPolicy, type RestartRequest } from '../microkernel/policy-module.js';
import type { GradeContext, Lab } from './types.js';
import { seededChecks, type SeededRuns } from './common.js';

/** The budget the lab's runs give the supervisor: 3 restarts within 60 s (longer than any of the runs). */
export const LAB_BUDGET = { maxRestarts: 3, restartWindowMs: 60_000 } as const;
/** Requests per run, and closed-loop clients. */
const REQUESTS = 200;
const CLIENTS = 8;
/** Crashes of the disk in the crash loop: more than the budget's restarts. */
const LOOP_CRASHES = 8;
/** Deadline of every call (and how long the app waits for a restarted server), ms. */
const CALL_TIMEOUT_MS = 5_000;
/** A run that takes longer than this is stopped (a generous bound: a run takes a second or two). */
const WALL_BOUND_MS = 120_000;

/** The plans of one seed: a recovery plan (a few crashes of each server) and a crash loop of the disk. */
export function reincarnationPlans(seed: number | string): { recovery: string[]; loop: string[] } {
  const rng = seedrandom(`reincarnation:${seed}`);
  const draw = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  // message ranges that fall inside a run of REQUESTS requests (disk ~1, net ~2, app ~1 message a request)
  const ranges: Record<ServerName, [number, number]> = { disk: [20, 160], net: [30, 300], app: [20, 150] };
  const recovery: string[] = [];
  for (const s of SERVER_NAMES) {
    const [lo, hi] = ranges[s];
    const ats = new Set<number>();
    while (ats.size < 2) ats.add(draw(lo, hi));
    for (const at of [...ats].sort((a, b) => a - b)) recovery.push(`${s}:crash@message=${at}`);
  }
  const start = draw(30, 90);
  const step = draw(2, 4);
  const loop = Array.from({ length: LOOP_CRASHES }, (_, i) => `disk:crash@message=${start + i * step}`);
  return { recovery, loop };
}

interface SeedRuns {
  seed: number | string;
  plans: { recovery: string[]; loop: string[] };
  recovery: RunReport;
  loop: RunReport;
  monolith: RunReport;
  /** The recovery plan's restarts the policy put off for the call deadline or longer. */
  lateRestarts: LateRestart[];
}

type Runs = SeededRuns<SeedRuns>;


function options(seed: number | string, faults: string[], policy: string | null): RunOptions {
  return {
    workload: 'nfs',
    seed,
    requests: REQUESTS,
    clients: CLIENTS,
    callTimeoutMs: CALL_TIMEOUT_MS,
    faults,
    abortSignal: AbortSignal.timeout(WALL_BOUND_MS),
    ...(policy === null ? { mode: 'monolithic' as const } : { mode: 'microkernel' as const, restartPolicy: policy, ...LAB_BUDGET }),
  };
}

async function runAll(ctx: GradeContext): Promise<Runs> {
  const policy = join(ctx.dir, 'policy.ts');
  const seeds: SeedRuns[] = [];
  for (const seed of ctx.seeds) {
    const plans = reincarnationPlans(seed);
    try {
      const recovery = await run(options(seed, plans.recovery, policy));
      const loop = await run(options(seed, plans.loop, policy));
      const monolith = await run(options(seed, plans.loop, null));
      seeds.push({ seed, plans, recovery, loop, monolith, lateRestarts: await lateRestarts(policy, recovery) });
    } catch (e) {
      return { ok: false, message: `seed ${seed}: the run could not start: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  return { ok: true, seeds };
}

/** A check over every seed's runs: `each` returns the first problem of one seed, or null. */
const check = seededChecks(runAll);

const microkernelRuns = (s: SeedRuns): [string, RunReport][] => [
  ['recovery plan', s.recovery],
  ['crash loop', s.loop],
];

/** Every request the clients sent ended (none pending, none left unsent): the outcomes add up to the requests. */
function ended(s: SeedRuns): string | null {
  for (const [what, r] of microkernelRuns(s)) {
    const o = r.outcomes;
    if (r.endedBy !== 'requests') return `${what}: the run was stopped (${r.endedBy}) before its requests were done: calls kept waiting on a dead server`;
    if (o.pending > 0) return `${what}: ${o.pending} requests never ended (pending when the run stopped)`;
    if (o.notIssued > 0) return `${what}: ${o.notIssued} of ${REQUESTS} requests were never sent`;
    if (o.ok + o.fail + o.info !== REQUESTS) return `${what}: the outcomes (${o.ok} ok, ${o.fail} failed, ${o.info} unknown) add up to ${o.ok + o.fail + o.info}, not ${REQUESTS}`;
  }
  return null;
}

/** No acknowledged write was lost, in any run. */
function durable(s: SeedRuns): string | null {
  for (const [what, r] of microkernelRuns(s)) {
    if (!r.durability) return `${what}: the run checked no writes`;
    if (r.durability.lost > 0) return `${what}: ${r.durability.lost} acknowledged writes were lost${r.durability.firstLoss ? ` (first: ${r.durability.firstLoss})` : ''}`;
  }
  return null;
}

/**
 * The recovery plan: every failure restarted, no server given up, no request
 * failed, and none ended unknown but those a reset accounts for.
 */
function recovers(s: SeedRuns): string | null {
  const r = s.recovery;
  for (const name of SERVER_NAMES) {
    const sv = r.servers[name];
    if (sv.givenUp) {
      const gaveUp = r.faults.find((f) => f.server === name && f.outcome === 'given-up');
      const why = gaveUp ? ` (${gaveUp.message.replace(/^.*; given up: /, '')})` : '';
      return `recovery plan: ${name} was given up after ${sv.restarts} restart${sv.restarts === 1 ? '' : 's'}${why}, though the budget allows ${LAB_BUDGET.maxRestarts} within ${LAB_BUDGET.restartWindowMs} ms: the requests that needed it failed`;
    }
  }
  // a request the app gave up waiting for fails; one the clients gave up waiting for ends unknown:
  // which deadline comes first is host timing, so both count the same
  const failed = r.outcomes.fail;
  const { unanswered, excused } = unansweredBeyondResets(r);
  if (failed + unanswered > 0) {
    const what = [
      failed > 0 ? `${failed} requests failed` : null,
      unanswered > 0 ? `${unanswered} ${failed > 0 ? '' : 'requests '}ended without an answer (outcome unknown) beyond the ${excused} whose connection was reset (${r.resets} resets, ${r.retries.resentReads} of them reads sent again)` : null,
    ].filter((x) => x !== null).join(' and ');
    const late = s.lateRestarts.length
      ? `the policy delayed the restart${s.lateRestarts.length > 1 ? 's' : ''} after ${s.lateRestarts.map((l) => `${l.fault} by ${l.delayMs} ms`).join(', ')}, which outlasts the clients' ${CALL_TIMEOUT_MS} ms deadline`
      : `a restart came later than the ${CALL_TIMEOUT_MS} ms the app and the clients wait for one`;
    return `recovery plan (${s.plans.recovery.join(' ')}): ${what}, though no server was given up: ${late}`;
  }
  return null;
}

/**
 * The requests of a run that ended with an unknown outcome and no reset to
 * account for it. A reset (the connection dropped because net, or the app
 * holding the request, died: `resets`) ends a request unknown unless it is a
 * read the clients send again (`retries.resentReads`); so at most
 * `resets - resentReads` requests may end unknown for that reason, and any
 * beyond them timed out: they waited out the deadline on a server that was down.
 * Counted outcomes only, never host timing.
 */
export function unansweredBeyondResets(r: RunReport): { unanswered: number; excused: number } {
  const excused = Math.max(0, r.resets - r.retries.resentReads);
  return { unanswered: Math.max(0, r.outcomes.info - excused), excused };
}

/** A restart the policy put off for at least the call deadline: the planned fault behind the failure, and the delay it decided. */
interface LateRestart {
  fault: string;
  delayMs: number;
}

/** Epoch ms the replayed requests count from (any fixed time: a pure policy sees only differences). */
const REPLAY_EPOCH_MS = Date.UTC(2025, 0, 1);

/**
 * The policy asked again, for each failure the run restarted, what it
 * decided: the same request the supervisor made (this server's earlier
 * restarts as history, the failure's time as now), on a fixed epoch. The
 * restarts it put off for the call deadline or longer, in the order they
 * were noticed.
 */
async function lateRestarts(file: string, r: RunReport): Promise<LateRestart[]> {
  const policy = await loadRestartPolicy(file);
  const history: Record<ServerName, number[]> = { disk: [], net: [], app: [] };
  const late: LateRestart[] = [];
  const restarted = r.faults.filter((f) => f.outcome === 'restarted' && f.noticedAtMs !== null).sort((a, b) => (a.noticedAtMs as number) - (b.noticedAtMs as number));
  for (const f of restarted) {
    const now = REPLAY_EPOCH_MS + (f.noticedAtMs as number);
    const d = decideSafely(policy, { server: f.server, kind: f.kind as RestartRequest['kind'], incarnation: f.incarnation, history: [...history[f.server]], now, budget: { ...LAB_BUDGET } }, `the restart policy ${file}`);
    history[f.server].push(now);
    if (d.restart && d.delayMs >= CALL_TIMEOUT_MS) late.push({ fault: f.planned ?? `${f.server}'s ${f.kind}`, delayMs: d.delayMs });
  }
  return late;
}

/** The most restarts of `server` within any window of `windowMs`, from the report's fault records (when each failure was noticed). */
export function maxRestartsInWindow(r: RunReport, server: ServerName, windowMs: number): number {
  const times = r.faults
    .filter((f) => f.server === server && f.outcome === 'restarted' && f.noticedAtMs !== null)
    .map((f) => f.noticedAtMs as number)
    .sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** Every run: no server restarted more than the budget within any window. */
function budget(s: SeedRuns): string | null {
  const { maxRestarts, restartWindowMs } = LAB_BUDGET;
  for (const [what, r] of microkernelRuns(s)) {
    for (const name of SERVER_NAMES) {
      const most = maxRestartsInWindow(r, name, restartWindowMs);
      if (most > maxRestarts) return `${what}: ${name} was restarted ${most} times within ${restartWindowMs} ms: the budget is ${maxRestarts}`;
    }
  }
  return null;
}

/** The crash loop: the disk given up, and the calls after that failing fast (none left to time out). */
function givesUp(s: SeedRuns): string | null {
  const r = s.loop;
  const disk = r.servers.disk;
  const failures = r.faults.filter((f) => f.server === 'disk' && f.outcome !== 'survived').length;
  if (!disk.givenUp) {
    return `the crash loop never gave up: disk failed ${failures} times and was restarted ${disk.restarts} times (the budget is ${LAB_BUDGET.maxRestarts} within ${LAB_BUDGET.restartWindowMs} ms): calls kept waiting on a dead server`;
  }
  if (r.endedBy !== 'requests') return `crash loop: disk was given up, but the run was stopped (${r.endedBy}) before its requests were done: calls kept waiting`;
  const o = r.outcomes;
  if (o.pending > 0 || o.info > 0) {
    return `crash loop: disk was given up, but requests timed out (outcome unknown or pending) instead of failing fast with ESERVERFAILED: calls kept waiting on a dead server`;
  }
  if (o.fail === 0) return 'crash loop: disk was given up, but no request failed after it: the calls did not reach the given-up disk';
  return null;
}

/** The crash loop's plan under the monolith: the first crash takes the system down. */
function monolithDown(s: SeedRuns): string | null {
  const r = s.monolith;
  if (r.status !== 'failed') return `the crash loop's plan did not fail the monolith: its status is '${r.status}'`;
  if (!r.faults.some((f) => f.outcome === 'system-down')) return "the crash loop's plan failed the monolith, but no fault took the system down";
  return null;
}

/** The reincarnation lab: write the supervisor's restart policy. */
export const reincarnationLab: Lab = {
  name: 'reincarnation',
  title: "The reincarnation server: restart, back off, give up",
  difficulty: 'hard',
  kind: 'implementation',
  defaultSeeds: [1, 2],
  checks: [
    check('ended', 'every request ends', ended),
    check('durable', 'no acknowledged write is lost', durable),
    check('recovers', 'a few crashes: every server comes back and no request fails', recovers),
    check('budget', 'restarts stay within the budget', budget),
    check('gives-up', 'a crash loop: the disk is given up and calls fail fast', givesUp),
    check('monolith', 'the same crash loop takes the monolith down', monolithDown),
  ],
};
