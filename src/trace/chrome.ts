/**
 * The harness's side of tracing: the records every domain handed over, merged
 * into Chrome Trace Events (the JSON Perfetto and chrome://tracing open) and
 * one message sequence per traced request.
 *
 * Tracks: one process per domain. pid 1 is the harness (in the microkernel
 * also the supervisor), with one track per traced request for the clients
 * waiting on it ('wire'); in the monolith pid 2 is the kernel's one domain,
 * with its one thread; in the microkernel each server's domain is a process of
 * its own (pid 2 + the server's index), each incarnation of it a thread (tid =
 * its incarnation number). The app's handling of a request, and each of its
 * calls waiting for the reply, are spans on a track of that request's own (tid
 * 1000 + request id) in the app's process, so that requests served at once do
 * not overlap on one track. Slices on a thread's track are stretches it ran
 * without yielding, so they nest. Flow arrows go from each message's sending
 * to where it was handled (a call) or taken in (a reply), one per message of
 * the sequence.
 *
 * `ts` is µs since the clients started (the records' epoch µs, less the start).
 */
import { SERVER_NAMES } from '../protocol.js';
import type { Mode } from '../config.js';
import type { MessageStep, RequestSequence, TraceEvent, TraceRecord, TraceSample } from './types.js';

export const HARNESS_PID = 1;
export const MONOLITH_PID = 2;
/** A request's own track: this plus its id. */
export const REQUEST_TID = 1000;

type Send = Extract<TraceRecord, { k: 'send' }>;
type Recv = Extract<TraceRecord, { k: 'recv' }>;

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** The process of domain `d`, and its thread's tid. */
function placeOf(d: string, mode: Mode): { pid: number; tid: number; server: string | null } {
  if (d === 'wire') return { pid: HARNESS_PID, tid: 1, server: null };
  if (d === 'monolith' || mode === 'monolithic') return { pid: MONOLITH_PID, tid: 1, server: null };
  const [server, gen] = d.split('#');
  return { pid: 2 + Math.max(0, SERVER_NAMES.indexOf(server as (typeof SERVER_NAMES)[number])), tid: Number(gen) || 1, server };
}

/**
 * The trace of a run: `records` from every domain (the wire's among them),
 * `requests` the sample size asked for, `startUs` the clients' start (epoch µs).
 */
export function buildTraceSample(records: TraceRecord[], opts: { mode: Mode; requests: number; startUs: number }): TraceSample {
  const { mode, startUs } = opts;
  const inSample = (req: number) => req >= 0 && req < opts.requests;
  const recs = records.filter((r) => inSample(r.req));
  const rel = (ts: number) => r3(ts - startUs);

  // the request lines, and when each request first left the clients
  const lines = new Map<number, string>();
  const arrived = new Map<number, number>();
  for (const r of recs) {
    if (r.k !== 'send' || r.d !== 'wire') continue;
    if (r.line !== undefined && !lines.has(r.req)) lines.set(r.req, r.line);
    arrived.set(r.req, Math.min(arrived.get(r.req) ?? Infinity, r.ts));
  }
  const requests = [...new Set(recs.map((r) => r.req))].sort((a, b) => a - b);

  const events: TraceEvent[] = [];
  const threads = new Map<string, { pid: number; tid: number; name: string }>();
  const processes = new Map<number, string>();
  const track = (pid: number, tid: number, name: string) => {
    const key = `${pid}:${tid}`;
    if (!threads.has(key)) threads.set(key, { pid, tid, name });
  };
  const nameProcess = (pid: number, name: string) => {
    if (!processes.has(pid)) processes.set(pid, name);
  };
  nameProcess(HARNESS_PID, mode === 'microkernel' ? 'harness (supervisor and clients)' : 'harness (clients)');
  track(HARNESS_PID, 1, 'harness');

  /** Where a record's slice or span goes: its thread, or (a span, or the wire's) its request's own track. */
  const where = (r: TraceRecord, own: boolean) => {
    const p = placeOf(r.d, mode);
    if (r.d === 'wire') {
      track(HARNESS_PID, REQUEST_TID + r.req, `wire: request ${r.req}`);
      return { pid: HARNESS_PID, tid: REQUEST_TID + r.req };
    }
    if (p.server === null) {
      nameProcess(MONOLITH_PID, 'monolith (one domain: disk, net, app)');
      track(MONOLITH_PID, 1, 'kernel thread');
    } else {
      nameProcess(p.pid, `${p.server} server`);
      track(p.pid, p.tid, `${p.server} worker${p.tid > 1 ? ` (incarnation ${p.tid})` : ''}`);
    }
    if (!own) return { pid: p.pid, tid: p.tid };
    track(p.pid, REQUEST_TID + r.req, `${p.server ?? 'app'}: request ${r.req}`);
    return { pid: p.pid, tid: REQUEST_TID + r.req };
  };

  for (const r of recs) {
    if (r.k !== 'slice' && r.k !== 'span') continue;
    const at = where(r, r.k === 'span');
    const line = lines.get(r.req);
    const name = r.name === 'request' ? `request ${r.req}${line ? `: ${line}` : ''}` : r.name;
    events.push({ name, cat: r.cat, ph: 'X', ts: rel(r.ts), dur: r3(r.dur), pid: at.pid, tid: at.tid, args: { reqId: r.req, domain: r.d } });
  }

  // flows and steps: each message sent whose other end was recorded too
  const recvs = new Map<number, Recv>();
  for (const r of recs) if (r.k === 'recv') recvs.set(r.flow, r);
  const sequences = new Map<number, MessageStep[]>(requests.map((q) => [q, []]));
  const sends = recs.filter((r): r is Send => r.k === 'send').sort((a, b) => a.ts - b.ts);
  for (const s of sends) {
    const f = recvs.get(s.flow);
    if (!f) continue;
    const from = where(s, false);
    const to = where(f, false);
    const name = s.kind === 'reply' ? `reply ${s.type}` : s.type;
    const args = { reqId: s.req, from: s.from, to: s.to };
    // the two ends' clocks are one clock: a finish before its start is rounding
    const fts = Math.max(rel(f.ts), rel(s.ts));
    events.push({ name, cat: 'message', ph: 's', id: s.flow, ts: rel(s.ts), pid: from.pid, tid: from.tid, args });
    events.push({ name, cat: 'message', ph: 'f', bp: 'e', id: s.flow, ts: fts, pid: to.pid, tid: to.tid, args });
    const t0 = arrived.get(s.req) ?? s.ts;
    sequences.get(s.req)!.push({
      from: s.from,
      to: s.to,
      type: s.kind === 'reply' ? 'reply' : s.type,
      kind: s.kind,
      sentUs: r3(s.ts - t0),
      handledUs: r3(Math.max(f.ts, s.ts) - t0),
    });
  }

  const meta: TraceEvent[] = [];
  for (const [pid, name] of processes) {
    meta.push({ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name } });
    meta.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid, tid: 0, args: { sort_index: pid } });
  }
  for (const t of threads.values()) {
    meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid: t.pid, tid: t.tid, args: { name: t.name } });
    meta.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: t.pid, tid: t.tid, args: { sort_index: t.tid } });
  }
  return {
    requests,
    events: [...meta, ...events],
    sequences: requests.map((reqId) => ({ reqId, request: lines.get(reqId) ?? '', steps: sequences.get(reqId)! }) satisfies RequestSequence),
  };
}

/**
 * The JSON object a trace file holds (Chrome's JSON Object Format, which
 * Perfetto and chrome://tracing open): the sample's events, times shown in ms,
 * and `otherData`, free-form metadata about the run.
 */
export function chromeTraceFile(sample: TraceSample, otherData: Record<string, unknown> = {}): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, unknown> } {
  return { traceEvents: sample.events, displayTimeUnit: 'ms', otherData: { ...otherData, tracedRequests: sample.requests } };
}

/**
 * Several labelled runs' samples in one trace file (a comparison's): each
 * run's processes renumbered into a block of their own (pid + 100 × its
 * position) and named after its label, and its flow ids made unique the same
 * way, so Perfetto shows the labels one above the other.
 */
export function chromeTraceOfRuns(
  runs: { label: string; sample: TraceSample }[],
  otherData: Record<string, unknown> = {},
): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, unknown> } {
  const traceEvents: TraceEvent[] = [];
  let idBase = 0;
  for (const [i, { label, sample }] of runs.entries()) {
    let maxId = 0;
    for (const e of sample.events) {
      const moved: TraceEvent = { ...e, pid: e.pid + 100 * i };
      if (e.id !== undefined) {
        moved.id = e.id + idBase;
        maxId = Math.max(maxId, e.id);
      }
      if (e.ph === 'M' && e.name === 'process_name') moved.args = { ...e.args, name: `${label}: ${String(e.args?.name ?? '')}` };
      traceEvents.push(moved);
    }
    idBase += maxId + 1;
  }
  return { traceEvents, displayTimeUnit: 'ms', otherData: { ...otherData, labels: runs.map((r) => ({ label: r.label, tracedRequests: r.sample.requests })) } };
}
