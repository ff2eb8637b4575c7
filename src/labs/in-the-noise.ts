/**
 * Lab `in-the-noise` (moderate): when are a microkernel's extra messages "in
 * the noise"? Price a counted run of microkernel:copy under two cost
 * profiles, and find, for each, the file size from which the IPC part of a
 * request (ipc + contextSwitches + syscalls) is under 5% of its copy part.
 *
 * The answer comes from running the simulator over a ladder of file sizes
 * (powers of two, 64 B to 1 MiB) and pricing each run's counted events under
 * each profile; the runs are the same for every seed, so a grade runs the
 * ladder once.
 */
import { run, type RunReport } from '../run.js';
import { price, type Modelled } from '../costmodel/price.js';
import { loadProfile } from '../costmodel/profile.js';
import { round } from '../metrics/stats.js';
import { answerChecks, bySeed, drawer, pick } from './answers.js';
import { bytesText, n, normSeed, oneFileWorkload } from './common.js';
import type { Lab, LabProblem } from './types.js';

/** The file sizes tried: powers of two from 64 B to 1 MiB. */
export const NOISE_LADDER = Array.from({ length: 15 }, (_, i) => 64 * 2 ** i);
/** The profiles a problem draws two of. */
export const NOISE_PROFILES = ['i486-50-l3', 'i486-50-mach', 'pentium-133-1997', 'pentium-pro-1996', 'skylake'] as const;
/** IPC is "in the noise" under this share of the copy cost. */
export const NOISE_SHARE = 0.05;
/** The ladder's workload: small, so a grade takes seconds. */
const REQUESTS = 100;
const CLIENTS = 4;
const LADDER_SEED = 1996;

/** What a seed of this lab sets up: two profiles, and the file size whose per-request figures are asked for. */
export interface NoiseSetting {
  seed: number | string;
  profiles: [string, string];
  size: number;
}

export function noiseSetting(seed: number | string): NoiseSetting {
  const s = normSeed(seed);
  const next = drawer('in-the-noise', s);
  const a = pick(next, NOISE_PROFILES);
  const rest = NOISE_PROFILES.filter((p) => p !== a);
  const b = pick(next, rest);
  // the older machine first, as the shipped list is ordered
  const pair = [a, b].sort((x, y) => NOISE_PROFILES.indexOf(x as never) - NOISE_PROFILES.indexOf(y as never)) as [string, string];
  return { seed: s, profiles: pair, size: pick(next, NOISE_LADDER.slice(0, 12)) };
}

/** The run options of one rung of the ladder. */
export function noiseRunOptions(size: number) {
  return { workload: oneFileWorkload('lab-in-the-noise', LADDER_SEED, size, REQUESTS, CLIENTS), mode: 'microkernel' as const, transport: 'copy' as const };
}

/** One rung's run, once per process. */
const rung = bySeed(async (size): Promise<RunReport> => {
  const r = await run(noiseRunOptions(Number(size)));
  if (r.status !== 'ok') throw new Error(`the run of ${String(size)}-byte files did not end ok: ${r.problems.join('; ')}`);
  return r;
});

/** A run's counted events priced by `profile` (as the run would have priced them under it). */
function priced(r: RunReport, profile: string): Modelled {
  const done = r.outcomes.ok + r.outcomes.fail + r.outcomes.info;
  return price(loadProfile(profile), r.mode, r.countersByServer, r.domains, done);
}

/** The IPC and copy µs per request of a run under a profile. */
export function ipcAndCopy(r: RunReport, profile: string): { ipcUs: number; copyUs: number } {
  const m = priced(r, profile).perRequestUs;
  return { ipcUs: round(m.ipc + m.contextSwitches + m.syscalls, 5), copyUs: round(m.copies, 5) };
}

/** Every rung priced under `profile`, and the smallest size at which IPC is under NOISE_SHARE of the copies (0 if none on the ladder). */
export async function noiseLadder(profile: string): Promise<{ rows: { size: number; ipcUs: number; copyUs: number }[]; threshold: number }> {
  const rows = [];
  for (const size of NOISE_LADDER) rows.push({ size, ...ipcAndCopy(await rung(size), profile) });
  const first = rows.find((x) => x.ipcUs < NOISE_SHARE * x.copyUs);
  return { rows, threshold: first ? first.size : 0 };
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;

export const noiseProblem = bySeed(async (seed): Promise<LabProblem> => {
  const st = noiseSetting(seed);
  const [p, q] = st.profiles;
  const text = [
    `A web server under the microkernel with the copy transport (microkernel:copy) serves`,
    `one file to ${CLIENTS} closed-loop clients, ${REQUESTS} HTTP GET requests. Price its counted events under`,
    `two cost profiles, ${p} and ${q} (profiles/${p}.json, profiles/${q}.json):`,
    '',
    `1. With a file of ${n(st.size)} bytes${st.size >= 1024 ? ` (${bytesText(st.size)})` : ''}: the modelled µs per request of IPC`,
    `   (the ipc + contextSwitches + syscalls parts) and of copies (the copies part), under each.`,
    `2. For each profile: the smallest file size of the ladder 64 B, 128 B, ..., 1 MiB (powers`,
    `   of two) at which IPC is under ${NOISE_SHARE * 100}% of the copy cost ("in the noise"); 0 if none is.`,
    '',
    'Answer in answers.json:',
    `  { "${st.seed}": { "ipcUsPerRequest_${p}": n, "copyUsPerRequest_${p}": n, "thresholdBytes_${p}": n,`,
    `  ${' '.repeat(String(st.seed).length + 4)}"ipcUsPerRequest_${q}": n, "copyUsPerRequest_${q}": n, "thresholdBytes_${q}": n } }`,
    'µs within 1%; thresholds exact.',
  ].join('\n');
  const expected: Record<string, number> = {};
  const tolerance: Record<string, number> = {};
  const answer: string[] = [`Counted by running microkernel:copy over the ladder (${NOISE_LADDER.length} runs of ${REQUESTS} requests), priced under each profile:`];
  for (const profile of st.profiles) {
    const ladder = await noiseLadder(profile);
    const at = ladder.rows.find((x) => x.size === st.size)!;
    expected[`ipcUsPerRequest_${profile}`] = at.ipcUs;
    expected[`copyUsPerRequest_${profile}`] = at.copyUs;
    expected[`thresholdBytes_${profile}`] = ladder.threshold;
    tolerance[`ipcUsPerRequest_${profile}`] = 0.01;
    tolerance[`copyUsPerRequest_${profile}`] = 0.01;
    tolerance[`thresholdBytes_${profile}`] = 0;
    answer.push('', `${profile}:`, '  file size   IPC µs/req   copy µs/req   IPC/copy');
    for (const row of ladder.rows) {
      const marks = [...(row.size === st.size ? ['part 1'] : []), ...(row.size === ladder.threshold ? ['threshold'] : [])];
      const mark = marks.length ? `  <- ${marks.join(', ')}` : '';
      answer.push(`  ${bytesText(row.size).padStart(9)}   ${n(row.ipcUs).padStart(10)}   ${n(row.copyUs).padStart(11)}   ${pct(row.ipcUs / row.copyUs).padStart(8)}${mark}`);
    }
    answer.push(`  ipcUsPerRequest_${profile} ${n(at.ipcUs)}, copyUsPerRequest_${profile} ${n(at.copyUs)}, thresholdBytes_${profile} ${ladder.threshold}${ladder.threshold === 0 ? ' (never in the noise on this ladder)' : ''}`);
  }
  return { text, answer: answer.join('\n'), expected, tolerance };
});

const HINT = {
  ipc: 'IPC here is ipc + contextSwitches + syscalls: per message, a kernel entry (ipcEntryUs) and a switch (contextSwitchUs) and the rest of ipcOneWayUs; count the messages (and crossings) per request as in lab copies',
  copy: "copies are bytesCopied / 1024 x copyUsPerKiB x ipcCopiesPerMessage: the copy transport copies whole 4 KiB cache blocks at both hops, plus the header, and the profile says how often its kernel copies each byte",
  threshold: "IPC per request does not grow with the file, copies do: find the first rung where IPC < 5% of copies (mind that copies grow in whole 4 KiB blocks)",
};

export const inTheNoiseLab: Lab = {
  name: 'in-the-noise',
  title: 'When are two extra context switches in the noise?',
  difficulty: 'moderate',
  kind: 'problem',
  defaultSeeds: [1, 2, 3],
  problem: noiseProblem,
  checks: answerChecks(noiseProblem, [
    { name: 'ipc-us', title: 'modelled IPC µs per request, both profiles', keys: (k) => k.startsWith('ipcUsPerRequest_'), hint: () => HINT.ipc },
    { name: 'copy-us', title: 'modelled copy µs per request, both profiles', keys: (k) => k.startsWith('copyUsPerRequest_'), hint: () => HINT.copy },
    { name: 'threshold', title: 'file size where IPC is in the noise, both profiles', keys: (k) => k.startsWith('thresholdBytes_'), hint: () => HINT.threshold },
  ]),
};
