/**
 * Message tracing of a bounded sample of requests (`trace: { requests: N }`):
 * Chrome Trace Event JSON with a slice per handler invocation and a flow per
 * message, in every domain of each kernel, and each sampled request's message
 * sequence; tracing changes no counted work, and without it there is no trace.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { run, type RunOptions, type RunReport } from '../src/run.js';
import type { TraceEvent } from '../src/trace/types.js';
import { chromeTraceFile, HARNESS_PID, MONOLITH_PID, REQUEST_TID } from '../src/trace/chrome.js';
import { SERVER_NAMES } from '../src/protocol.js';

const REQUESTS = 200;
const SAMPLE = 5;
const SAMPLED = [0, 1, 2, 3, 4];

/** The messages of one file read (GET of a file that exists), as each kernel carries them. */
const FILE_READ = {
  // the request comes off the wire; net hands it to the app's posted receive (NET_ACCEPT's reply); then three calls and their replies
  microkernel: [
    ['wire', 'net', 'NET_RECV', 'call'],
    ['net', 'app', 'reply', 'reply'],
    ['app', 'disk', 'DISK_LOOKUP', 'call'],
    ['disk', 'app', 'reply', 'reply'],
    ['app', 'disk', 'DISK_READ', 'call'],
    ['disk', 'app', 'reply', 'reply'],
    ['app', 'net', 'NET_SEND', 'call'],
    ['net', 'app', 'reply', 'reply'],
  ],
  // procedure calls: the device calls net, the app calls disk twice and net once; returns are no messages
  monolithic: [
    ['wire', 'net', 'NET_RECV', 'call'],
    ['app', 'disk', 'DISK_LOOKUP', 'call'],
    ['app', 'disk', 'DISK_READ', 'call'],
    ['app', 'net', 'NET_SEND', 'call'],
  ],
} as const;

const pidOf = (server: string) => 2 + SERVER_NAMES.indexOf(server as (typeof SERVER_NAMES)[number]);

const configs: { label: string; opts: RunOptions }[] = [
  { label: 'monolithic', opts: { mode: 'monolithic' } },
  { label: 'microkernel (copy, message)', opts: { mode: 'microkernel' } },
  { label: 'microkernel (shared, ring)', opts: { mode: 'microkernel', transport: 'shared', signal: 'ring' } },
];

describe.each(configs)('$label', ({ opts }) => {
  let plain: RunReport;
  let traced: RunReport;
  let events: TraceEvent[];
  beforeAll(async () => {
    const base: RunOptions = { ...opts, workload: 'specweb96', seed: 11, requests: REQUESTS };
    plain = await run(base);
    traced = await run({ ...base, trace: { requests: SAMPLE } });
    expect(traced.trace).not.toBeNull();
    // as a viewer gets it: written and read back
    events = (JSON.parse(JSON.stringify({ traceEvents: traced.trace!.events, displayTimeUnit: 'ms' })) as { traceEvents: TraceEvent[] }).traceEvents;
  });
  const mode = opts.mode!;

  it('both runs complete, and tracing changes no counted work', () => {
    for (const r of [plain, traced]) expect(r.status, r.problems.join('; ')).toBe('ok');
    expect(traced.counters).toEqual(plain.counters);
    expect(traced.countersByServer).toEqual(plain.countersByServer);
    expect(traced.digest).toBe(plain.digest);
  });

  it('without the option there is no trace', () => {
    expect(plain.trace).toBeNull();
  });

  it('every event has the fields of its phase, with the right types', () => {
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) {
      expect(['X', 'M', 's', 'f', 't']).toContain(e.ph);
      expect(typeof e.name).toBe('string');
      expect(typeof e.ts).toBe('number');
      expect(Number.isFinite(e.ts)).toBe(true);
      expect(Number.isInteger(e.pid)).toBe(true);
      expect(Number.isInteger(e.tid)).toBe(true);
      if (e.ph === 'X') {
        expect(typeof e.dur).toBe('number');
        expect(e.dur).toBeGreaterThanOrEqual(0);
        expect(typeof e.cat).toBe('string');
      }
      if (e.ph === 'M') {
        expect(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index']).toContain(e.name);
        expect(typeof e.args).toBe('object');
      }
      if (e.ph === 's' || e.ph === 'f' || e.ph === 't') {
        expect(Number.isInteger(e.id)).toBe(true);
        expect(typeof e.cat).toBe('string');
      }
      if (e.ph === 'f') expect(e.bp).toBe('e');
    }
    // every track that has events has a name
    const named = new Set(events.filter((e) => e.name === 'thread_name').map((e) => `${e.pid}:${e.tid}`));
    for (const e of events.filter((x) => x.ph !== 'M')) expect(named.has(`${e.pid}:${e.tid}`), `${e.pid}:${e.tid}`).toBe(true);
    const processes = new Set(events.filter((e) => e.name === 'process_name').map((e) => e.pid));
    for (const e of events) expect(processes.has(e.pid) || e.ph === 'M').toBe(true);
  });

  it('every flow has one start and one finish, the start no later, each inside a slice of its track', () => {
    const byId = new Map<number, TraceEvent[]>();
    for (const e of events) if (e.ph === 's' || e.ph === 'f') byId.set(e.id!, [...(byId.get(e.id!) ?? []), e]);
    expect(byId.size).toBeGreaterThan(0);
    const slices = events.filter((e) => e.ph === 'X');
    const enclosed = (p: TraceEvent) => slices.some((x) => x.pid === p.pid && x.tid === p.tid && x.ts <= p.ts && p.ts <= x.ts + x.dur! + 0.001);
    for (const [id, pair] of byId) {
      expect(pair.map((e) => e.ph).sort(), `flow ${id}`).toEqual(['f', 's']);
      const s = pair.find((e) => e.ph === 's')!;
      const f = pair.find((e) => e.ph === 'f')!;
      expect(s.ts).toBeLessThanOrEqual(f.ts);
      expect(s.name).toBe(f.name);
      expect(s.cat).toBe(f.cat);
      expect(enclosed(s), `start of flow ${id} (${s.name})`).toBe(true);
      expect(enclosed(f), `finish of flow ${id} (${f.name})`).toBe(true);
    }
  });

  it('slices on a thread nest: none overlaps another without containing it', () => {
    const tracks = new Map<string, TraceEvent[]>();
    for (const e of events) if (e.ph === 'X') tracks.set(`${e.pid}:${e.tid}`, [...(tracks.get(`${e.pid}:${e.tid}`) ?? []), e]);
    for (const [key, xs] of tracks) {
      const sorted = [...xs].sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
      const open: number[] = [];
      for (const x of sorted) {
        while (open.length && open[open.length - 1] <= x.ts + 0.001) open.pop();
        if (open.length) expect(x.ts + x.dur!, `${key}: ${x.name}`).toBeLessThanOrEqual(open[open.length - 1] + 0.002);
        open.push(x.ts + x.dur!);
      }
    }
  });

  it('only the sampled requests appear', () => {
    expect(traced.trace!.requests).toEqual(SAMPLED);
    expect(traced.trace!.sequences.map((s) => s.reqId)).toEqual(SAMPLED);
    for (const e of events) if (e.ph !== 'M') expect(SAMPLED).toContain((e.args as { reqId: number }).reqId);
  });

  it("each sampled request's sequence is the messages of a file read, in order", () => {
    for (const s of traced.trace!.sequences) {
      expect(s.request).toMatch(/^GET \/\S+ HTTP\/1\.0$/);
      expect(s.steps.map((x) => [x.from, x.to, x.type, x.kind]), `request ${s.reqId}`).toEqual(FILE_READ[mode].map((x) => [...x]));
      let last = -Infinity;
      for (const x of s.steps) {
        expect(x.sentUs).toBeGreaterThanOrEqual(last);
        expect(x.handledUs).toBeGreaterThanOrEqual(x.sentUs);
        last = x.sentUs;
      }
      expect(s.steps[0].sentUs).toBe(0); // times count from the request leaving the clients
    }
  });

  it('each sampled request has slices in every server it crossed, and its own tracks', () => {
    const x = events.filter((e) => e.ph === 'X');
    for (const req of SAMPLED) {
      const mine = x.filter((e) => (e.args as { reqId: number }).reqId === req);
      // the clients wait for the response on the wire's track of the request
      expect(mine.some((e) => e.pid === HARNESS_PID && e.tid === REQUEST_TID + req && e.cat === 'request')).toBe(true);
      if (mode === 'monolithic') {
        for (const name of ['net: NET_RECV from the wire', 'disk: DISK_LOOKUP', 'disk: DISK_READ', 'net: NET_SEND']) {
          expect(mine.some((e) => e.pid === MONOLITH_PID && e.tid === 1 && e.name === name && e.cat === 'handler'), `${req}: ${name}`).toBe(true);
        }
        // the app's handling of the request, on its own track
        expect(mine.some((e) => e.pid === MONOLITH_PID && e.tid === REQUEST_TID + req && e.name.startsWith(`request ${req}: GET `))).toBe(true);
      } else {
        for (const server of ['disk', 'net', 'app']) expect(mine.some((e) => e.pid === pidOf(server) && e.tid === 1), `${req}: ${server}`).toBe(true);
        expect(mine.some((e) => e.pid === pidOf('disk') && e.name === 'disk: DISK_READ from app' && e.cat === 'handler')).toBe(true);
        expect(mine.some((e) => e.pid === pidOf('net') && e.name === 'net: NET_SEND from app' && e.cat === 'handler')).toBe(true);
        expect(mine.some((e) => e.pid === pidOf('net') && e.name === 'net: NET_RECV from the wire')).toBe(true);
        expect(mine.some((e) => e.pid === pidOf('app') && e.tid === REQUEST_TID + req && e.name.startsWith(`request ${req}: GET `))).toBe(true);
      }
    }
    // one process per domain, named
    const names = events.filter((e) => e.name === 'process_name').map((e) => e.pid);
    expect(names.sort()).toEqual(mode === 'monolithic' ? [HARNESS_PID, MONOLITH_PID] : [HARNESS_PID, ...SERVER_NAMES.map(pidOf)].sort());
    // each named for what it is: the disk's domain is not called the monolith
    const titled = events.filter((e) => e.name === 'process_name').map((e) => String(e.args?.name)).sort();
    expect(titled).toEqual(mode === 'monolithic' ? ['harness (clients)', 'monolith (one domain: disk, net, app)'] : ['app server', 'disk server', 'harness (supervisor and clients)', 'net server']);
  });
});

describe('the trace option', () => {
  it('is refused outside 1..1000 or with other fields', async () => {
    await expect(run({ requests: 10, trace: { requests: 0 } })).rejects.toThrow(/trace\.requests/);
    await expect(run({ requests: 10, trace: { requests: 1001 } })).rejects.toThrow(/trace\.requests/);
    await expect(run({ requests: 10, trace: { requests: 5, all: true } as never })).rejects.toThrow(/trace\.all/);
  });

  it('a sample larger than the run traces the requests sent', async () => {
    const r = await run({ mode: 'monolithic', requests: 3, trace: { requests: 10 } });
    expect(r.trace!.requests).toEqual([0, 1, 2]);
  });
});

describe('chromeTraceFile', () => {
  it('wraps a sample as the JSON object a viewer opens', async () => {
    const r = await run({ mode: 'monolithic', requests: 20, trace: { requests: 2 } });
    const file = JSON.parse(JSON.stringify(chromeTraceFile(r.trace!, { mode: r.mode, workload: r.workload.name }))) as Record<string, unknown>;
    expect(file.displayTimeUnit).toBe('ms');
    expect(file.traceEvents).toEqual(r.trace!.events);
    expect(file.otherData).toEqual({ mode: 'monolithic', workload: 'specweb96', tracedRequests: [0, 1] });
  });
});
