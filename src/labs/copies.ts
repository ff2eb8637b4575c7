/**
 * Lab `copies` (easy): for a seed, a kernel and transport, one file size and
 * a request count; predict the bytes copied, IPC messages and domain crossings
 * per request. The answer is what `run()` counts for that setting.
 */
import { run, type RunOptions, type RunReport } from '../run.js';
import { answerChecks, bySeed, drawer, pick } from './answers.js';
import { bytesText, n, normSeed, oneFileWorkload, wrap } from './common.js';
import type { Lab, LabProblem } from './types.js';

/** The kernels a problem is drawn from, as compare labels them. */
export const COPIES_LABELS = ['monolithic', 'microkernel:copy', 'microkernel:transfer', 'microkernel:shared'] as const;
export type CopiesLabel = (typeof COPIES_LABELS)[number];
/** File sizes a problem is drawn from: below, at and above a 4 KiB block, up to 256 KiB. */
export const COPIES_SIZES = [64, 100, 512, 1000, 1460, 4096, 5000, 8192, 10_000, 16_384, 65_536, 100_000, 262_144] as const;
/** Request counts: each makes the per-request share of the end-of-run messages a short decimal. */
const REQUESTS = [100, 200, 250, 400, 500] as const;
const CLIENTS = [1, 2, 4, 8, 10, 16, 32] as const;

/** What a seed of this lab sets up. */
export interface CopiesSetting {
  seed: number | string;
  label: CopiesLabel;
  size: number;
  requests: number;
  clients: number;
}

/** The setting of the problem for `seed`, drawn from sha256 of the seed: the same every time. */
export function copiesSetting(seed: number | string): CopiesSetting {
  const s = normSeed(seed);
  const next = drawer('copies', s);
  return { seed: s, label: pick(next, COPIES_LABELS), size: pick(next, COPIES_SIZES), requests: pick(next, REQUESTS), clients: pick(next, CLIENTS) };
}

/** The run options of a setting: what `run()` is given to compute the answer. */
export function copiesRunOptions(st: CopiesSetting): RunOptions {
  const [mode, transport] = st.label.split(':') as ['monolithic' | 'microkernel', 'copy' | 'transfer' | 'shared' | undefined];
  return {
    workload: oneFileWorkload('lab-copies', st.seed, st.size, st.requests, st.clients),
    mode,
    ...(transport ? { transport } : {}),
  };
}

const KERNEL_TEXT: Record<CopiesLabel, string> = {
  monolithic: 'the monolithic kernel (one domain: calls are direct, payloads are passed as references)',
  'microkernel:copy': 'the microkernel with the copy transport (every message crosses as a structured clone, Mach-style)',
  'microkernel:transfer': 'the microkernel with the transfer transport (a payload\'s buffer moves to the receiver, as by page remapping)',
  'microkernel:shared': 'the microkernel with the shared transport (payloads stay in an IO-Lite-style shared buffer pool; descriptors cross)',
};

const HINTS: Record<CopiesLabel, Record<'bytesCopied' | 'ipcMessages' | 'crossings', string>> = {
  monolithic: {
    bytesCopied: 'the monolith passes views of the cache blocks from disk to net: no IPC, so nothing is counted as copied',
    ipcMessages: 'the monolith makes direct calls (counted as directCalls), not IPC messages',
    crossings: 'in the monolith every server is in one domain: nothing crosses',
  },
  'microkernel:copy': {
    bytesCopied: 'the copy transport copies a payload at every hop: every buffer behind it, whole (the disk\'s 4 KiB cache blocks), disk to app and again app to net, plus the HTTP header',
    ipcMessages: 'a request is 4 calls (NET_ACCEPT, DISK_LOOKUP, DISK_READ, NET_SEND) and their 4 replies; at the end the closing wire ends each receive slot the app keeps posted (min(clients, 256)) with a reply, and each slot was a call',
    crossings: 'each IPC message crosses from one domain into another once',
  },
  'microkernel:transfer': {
    bytesCopied: 'transfer moves the buffer itself, but the disk keeps its cache blocks: it copies the file\'s bytes (not whole blocks) out once; the header crosses by reference',
    ipcMessages: 'a request is 4 calls (NET_ACCEPT, DISK_LOOKUP, DISK_READ, NET_SEND) and their 4 replies; at the end the closing wire ends each receive slot the app keeps posted (min(clients, 256)) with a reply, and each slot was a call',
    crossings: 'each IPC message crosses from one domain into another once',
  },
  'microkernel:shared': {
    bytesCopied: 'shared passes descriptors into the pool: the file is never copied, only the small HTTP header (not in the pool) crosses by value',
    ipcMessages: 'a request is 4 calls (NET_ACCEPT, DISK_LOOKUP, DISK_READ, NET_SEND) and their 4 replies; at the end the closing wire ends each receive slot the app keeps posted (min(clients, 256)) with a reply, and each slot was a call',
    crossings: 'each IPC message crosses from one domain into another once',
  },
};

/** The run behind a seed's problem. */
async function runOf(seed: number | string): Promise<{ st: CopiesSetting; report: RunReport }> {
  const st = copiesSetting(seed);
  const report = await run(copiesRunOptions(st));
  if (report.status !== 'ok') throw new Error(`the run for seed ${String(seed)} did not end ok: ${report.problems.join('; ')}`);
  return { st, report };
}

/** The problem for `seed`, worked out afresh: its text, and its answer counted by running it. */
export async function solveCopies(seed: number | string): Promise<LabProblem> {
  const { st, report: r } = await runOf(normSeed(seed));
  const header = Math.round(r.perRequest.payloadBytes - st.size);
  const text = [
    ...wrap(
      `A web server holds one file of ${n(st.size)} bytes${st.size >= 1024 && st.size % 1024 === 0 ? ` (${bytesText(st.size)})` : ''}. ` +
        `${st.clients === 1 ? 'One closed-loop client sends' : `${st.clients} closed-loop clients send`} ${n(st.requests)} HTTP GET requests for it in all, ` +
        `and the server runs under ${KERNEL_TEXT[st.label]}. Label: ${st.label}. Each response is an HTTP header of ${header} bytes ` +
        `followed by the file; the disk's buffer cache (4 KiB blocks) holds the whole file after the first read.`,
    ),
    '',
    'Predict, per completed request, what the kernel counts:',
    '  bytesCopied   bytes its IPC carried by value',
    '  ipcMessages   IPC messages (calls and replies)',
    '  crossings     domain crossings',
    '',
    `Answer in answers.json: { "${st.seed}": { "bytesCopied": n, "ipcMessages": n, "crossings": n } }`,
  ].join('\n');
  const c = r.counters;
  const answer = [
    `Counted by running it (${n(r.outcomes.ok)} requests completed, status ${r.status}):`,
    `  bytesCopied   ${n(r.perRequest.bytesCopied)}   (${n(c.bytesCopied)} bytes / ${n(r.outcomes.ok)} requests)`,
    `  ipcMessages   ${n(r.perRequest.ipcMessages)}   (${n(c.ipcMessages)} messages / ${n(r.outcomes.ok)} requests)`,
    `  crossings     ${n(r.perRequest.crossings)}   (${n(c.crossings)} crossings / ${n(r.outcomes.ok)} requests)`,
    `  (for comparison: ${n(r.perRequest.directCalls)} direct calls and ${n(r.perRequest.payloadBytes)} payload bytes per request)`,
  ].join('\n');
  return {
    text,
    answer,
    expected: { bytesCopied: r.perRequest.bytesCopied, ipcMessages: r.perRequest.ipcMessages, crossings: r.perRequest.crossings },
    tolerance: { bytesCopied: 0.01, ipcMessages: 0, crossings: 0 },
  };
}

/** The problem for `seed` (worked out once per seed per process). */
export const copiesProblem = bySeed(solveCopies);

const hint = (key: 'bytesCopied' | 'ipcMessages' | 'crossings') => (seed: number | string) => HINTS[copiesSetting(seed).label][key];

/** The lab. */
export const copiesLab: Lab = {
  name: 'copies',
  title: 'Count the copies, messages and crossings of a request',
  difficulty: 'easy',
  kind: 'problem',
  defaultSeeds: [1, 2, 3],
  problem: copiesProblem,
  checks: answerChecks(copiesProblem, [
    { name: 'ipc-messages', title: 'IPC messages per request', keys: (k) => k === 'ipcMessages', hint: hint('ipcMessages') },
    { name: 'crossings', title: 'domain crossings per request', keys: (k) => k === 'crossings', hint: hint('crossings') },
    { name: 'bytes-copied', title: 'bytes copied per request', keys: (k) => k === 'bytesCopied', hint: hint('bytesCopied') },
  ]),
};
