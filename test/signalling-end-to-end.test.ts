/**
 * The signalling choices end to end, through run() with real worker threads:
 * `signal: 'batch'` (every frame a domain posts in one turn goes as one
 * postMessage) with the copy, transfer and shared transports, and `signal:
 * 'ring'` (shared-memory rings, a doorbell per domain, a pump that spins
 * `spinUs` then sleeps) with copy and shared. Each gives the monolith's answers,
 * counts the same work, and sends exactly as many IPC messages as message
 * signalling. bytesCopied is computed by hand from the request stream and the
 * file set (F = file bytes served, H = HTTP header bytes, blocks = cache blocks
 * the reads cover):
 *
 *   message/batch  copy      a structured clone copies each cache block behind
 *                            a slice whole, disk -> app and app -> net, and the
 *                            headers once: 2 x 4096 x blocks + H
 *                  transfer  the disk copies its kept cache slices out once: F
 *                  shared    only the headers (app heap) are cloned: H
 *   ring           copy      the ring copies every payload slice's own length
 *                            into the ring and out of it at each crossing:
 *                            disk -> app 2F, app -> net 2(F + H): 4F + 2H
 *                  shared    file bytes cross as descriptors; the header slice
 *                            goes into and out of the ring: 2H
 *
 * Also: transfer with rings is refused (ConfigError); a server crashing under
 * ring signalling is restarted, the run completes, and no worker or port is
 * left (the restarted incarnation's included); and a pump that never spins
 * (spinUs 0) still completes a run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type Signal, type Transport } from '../src/config.js';
import { COUNTER_NAMES, type CounterName } from '../src/metrics/counters.js';
import type { ServerName } from '../src/protocol.js';
import { resolveRun, run, type RunOptions, type RunReport } from '../src/run.js';
import { BLOCK_SIZE } from '../src/servers/fs.js';
import { HAVE_PROC, osThreads, settle, trackResources } from './support/leaks.js';
import { expectAllOk, pick } from './support/reports.js';
import { served } from './support/served.js';

const REQUESTS = 400;
const SEEDS = [1996, 'lab'] as const;
const NOT_COMPARED: readonly CounterName[] = ['bytesCopied', 'ipcMessages', 'crossings', 'directCalls', 'descriptorsRefused', 'ipcPayloadBytes', 'syscalls'];
const COMPARED = COUNTER_NAMES.filter((n) => !NOT_COMPARED.includes(n));
/** app -> net NET_ACCEPT, app -> disk DISK_LOOKUP and DISK_READ, app -> net NET_SEND: each a call and a reply. */
const MESSAGES_PER_REQUEST = 8;

/**
 * The IPC messages of a run of `requests` requests: 8 per request, and a call
 * and its reply for each receive the app kept posted (config.receives), which
 * the wire's close ends with ESHUTDOWN.
 */
const ipcMessagesOf = (r: RunReport, requests: number) => MESSAGES_PER_REQUEST * requests + 2 * r.config.receives;

type Combo = readonly [Transport, Signal];
const COMBOS: readonly Combo[] = [
  ['copy', 'message'],
  ['transfer', 'message'],
  ['shared', 'message'],
  ['copy', 'batch'],
  ['transfer', 'batch'],
  ['shared', 'batch'],
  ['copy', 'ring'],
  ['shared', 'ring'],
];
const label = ([t, s]: Combo) => `${t}:${s}`;
const NOT_MESSAGE = COMBOS.filter(([, s]) => s !== 'message');

// ---- leak observation (test/support/leaks.ts): every WORKER and MESSAGEPORT from creation to destruction

type Tracked = 'WORKER' | 'MESSAGEPORT';
const { live, created, liveCount } = trackResources<Tracked>(['WORKER', 'MESSAGEPORT']);

async function snapshot() {
  await settle();
  return { workers: liveCount('WORKER'), ports: liveCount('MESSAGEPORT'), threads: osThreads() };
}

const survivorsSince = (mark: number) => created.slice(mark).filter((c) => live.has(c.id));

// ---- correctness and counting per signalling choice

describe.each(SEEDS)(`specweb96, seed %s, ${REQUESTS} requests: every transport under message, batch and ring signalling`, (seed) => {
  let mono: RunReport;
  const micro = new Map<string, RunReport>();
  const get = (t: Transport, s: Signal) => micro.get(`${t}:${s}`)!;
  let e: ReturnType<typeof served>;
  beforeAll(async () => {
    e = served(seed, REQUESTS);
    const base: Omit<RunOptions, 'mode'> = { workload: 'specweb96', seed, requests: REQUESTS };
    mono = await run({ ...base, mode: 'monolithic' });
    for (const [transport, signal] of COMBOS) micro.set(label([transport, signal]), await run({ ...base, mode: 'microkernel', transport, signal }));
  }, 240_000);

  it('every request ends ok under every combination, and each report names its transport and signalling', () => {
    expectAllOk(mono, REQUESTS);
    expect(mono.signal).toBeNull();
    for (const c of COMBOS) {
      const r = micro.get(label(c))!;
      expectAllOk(r, REQUESTS);
      expect([r.mode, r.transport, r.signal]).toEqual(['microkernel', ...c]);
      expect([r.config.transport, r.config.signal]).toEqual([...c]);
    }
  });

  it("under ring signalling each domain's report says what its pump did (turns, sleeps, notifies); under message and batch there is no pump, nor in the monolith", () => {
    expect(mono.domains.every((d) => d.pump === undefined)).toBe(true);
    for (const c of COMBOS) {
      const r = micro.get(label(c))!;
      if (c[1] !== 'ring') {
        expect(r.domains.every((d) => d.pump === undefined), label(c)).toBe(true);
        continue;
      }
      expect(r.domains.map((d) => d.name)).toEqual(['disk', 'net', 'app']);
      for (const d of r.domains) {
        const p = d.pump!;
        // every domain took messages off its rings, so its loop turned; a sleep or a notify needs no more than a turn
        expect(p.turns, `${label(c)} ${d.name}`).toBeGreaterThan(0);
        expect(p.sleeps).toBeGreaterThanOrEqual(0);
        expect(p.sleeps).toBeLessThanOrEqual(p.turns);
        expect(Number.isInteger(p.notifies) && p.notifies >= 0).toBe(true);
      }
      // every domain slept before its first message, so somebody rang a sleeping doorbell
      expect(r.domains.reduce((n, d) => n + d.pump!.notifies, 0)).toBeGreaterThan(0);
    }
  });

  it.each(NOT_MESSAGE.map(label))('%s gives the same digest as the monolith', (l) => {
    expect(mono.digest).toMatch(/\S/);
    expect(micro.get(l)!.digest).toBe(mono.digest);
  });

  it.each(NOT_MESSAGE.map(label))('%s counts the same work as the monolith (all but the IPC counters)', (l) => {
    expect(COMPARED).toEqual(expect.arrayContaining(['payloadBytes', 'diskBlocksRead', 'framesSent', 'bytesChecksummed']));
    expect(pick(micro.get(l)!, COMPARED)).toEqual(pick(mono, COMPARED));
    expect(mono.counters.payloadBytes).toBe(e.fileBytes + e.headerBytes);
  });

  it.each(['copy', 'transfer', 'shared'] as const)('%s: ipcMessages and crossings are identical across signalling choices, 8 per request and 2 per receive', (t) => {
    const signals = COMBOS.filter(([tt]) => tt === t).map(([, s]) => s);
    expect(signals.length).toBeGreaterThanOrEqual(2);
    for (const s of signals) {
      const r = get(t, s);
      expect(r.counters.ipcMessages, `${t}:${s}`).toBe(get(t, 'message').counters.ipcMessages);
      expect(r.counters.crossings, `${t}:${s}`).toBe(get(t, 'message').counters.crossings);
      expect(r.counters.ipcMessages).toBe(ipcMessagesOf(r, REQUESTS));
      expect(r.counters.ipcMessages).toBe(2 * mono.counters.directCalls);
      expect(mono.counters.directCalls).toBe((MESSAGES_PER_REQUEST / 2) * REQUESTS + mono.config.receives);
      expect(r.counters.directCalls).toBe(0);
      expect(r.counters.descriptorsRefused).toBe(0);
    }
  });

  it('batch copies exactly what message signalling copies, for every transport (the hand-computed figures)', () => {
    expect(e.fileBytes).toBeGreaterThan(0);
    const expected = { copy: 2 * BLOCK_SIZE * e.blocks + e.headerBytes, transfer: e.fileBytes, shared: e.headerBytes };
    for (const t of ['copy', 'transfer', 'shared'] as const) {
      expect(get(t, 'batch').counters.bytesCopied, t).toBe(expected[t]);
      expect(get(t, 'message').counters.bytesCopied, t).toBe(expected[t]);
      for (const s of ['disk', 'app', 'net'] as const) {
        expect(get(t, 'batch').countersByServer[s].bytesCopied, `${t} at ${s}`).toBe(get(t, 'message').countersByServer[s].bytesCopied);
      }
    }
  });

  it('ring + copy: every slice into and out of the ring at each crossing, 4F + 2H, counted where each copy happens', () => {
    const r = get('copy', 'ring');
    expect(r.counters.bytesCopied).toBe(4 * e.fileBytes + 2 * e.headerBytes);
    expect(r.countersByServer.disk.bytesCopied).toBe(e.fileBytes); // its replies into the ring
    expect(r.countersByServer.app.bytesCopied).toBe(2 * e.fileBytes + e.headerBytes); // out of disk's ring, into net's
    expect(r.countersByServer.net.bytesCopied).toBe(e.fileBytes + e.headerBytes); // out of the ring
  });

  it('ring + copy is not simply twice message + copy: the ring copies slice lengths, the clone whole blocks', () => {
    const ring = get('copy', 'ring').counters.bytesCopied;
    const message = get('copy', 'message').counters.bytesCopied;
    expect(ring - 2 * message).toBe(4 * (e.fileBytes - BLOCK_SIZE * e.blocks));
    expect(ring).toBeLessThan(2 * message); // some files end inside a block
  });

  it('ring + shared: only the header slice, into and out of the ring: 2H', () => {
    const r = get('shared', 'ring');
    expect(r.counters.bytesCopied).toBe(2 * e.headerBytes);
    expect(r.countersByServer.disk.bytesCopied).toBe(0); // replies are pool descriptors
    expect(r.countersByServer.app.bytesCopied).toBe(e.headerBytes);
    expect(r.countersByServer.net.bytesCopied).toBe(e.headerBytes);
  });
});

// ---- configuration

describe('transfer with ring signalling is refused', () => {
  it('run() rejects with a ConfigError before any worker starts', async () => {
    const workersBefore = created.filter((c) => c.type === 'WORKER').length;
    const p = run({ mode: 'microkernel', workload: 'specweb96', requests: 10, transport: 'transfer', signal: 'ring' });
    await expect(p).rejects.toBeInstanceOf(ConfigError);
    await expect(p).rejects.toThrow(/transfer/);
    await settle();
    expect(created.filter((c) => c.type === 'WORKER').length).toBe(workersBefore);
  });

  it('resolveRun() throws the same ConfigError; transfer with message or batch signalling is accepted, and the monolith refuses a transport', () => {
    expect(() => resolveRun({ mode: 'microkernel', workload: 'specweb96', transport: 'transfer', signal: 'ring' })).toThrow(ConfigError);
    for (const signal of ['message', 'batch'] as const) {
      expect(resolveRun({ mode: 'microkernel', workload: 'specweb96', transport: 'transfer', signal }).cfg.signal).toBe(signal);
    }
    expect(() => resolveRun({ mode: 'monolithic', workload: 'specweb96', transport: 'transfer', signal: 'ring' })).toThrow(/applies to the microkernel only/);
  });

  // Regression test (was a bug in src/run.ts resolveRun, line 142 at 9f40424).
  it('the ConfigError names both the transport and the signalling', () => {
    expect(() => resolveRun({ mode: 'microkernel', workload: 'specweb96', transport: 'transfer', signal: 'ring' })).toThrow(/\bring\b/);
  });

  it('a negative spinUs is refused with a ConfigError', () => {
    expect(() => resolveRun({ mode: 'microkernel', workload: 'specweb96', signal: 'ring', spinUs: -1 })).toThrow(ConfigError);
  });
});

describe('spinUs 0: pumps that sleep as soon as they are idle', () => {
  const seed = 1996;
  let mono: RunReport;
  let r: RunReport;
  beforeAll(async () => {
    mono = await run({ mode: 'monolithic', workload: 'specweb96', seed, requests: REQUESTS });
    r = await run({ mode: 'microkernel', workload: 'specweb96', seed, requests: REQUESTS, transport: 'copy', signal: 'ring', spinUs: 0 });
  }, 120_000);

  it('the run completes with every request ok and the monolith\'s digest', () => {
    expectAllOk(r, REQUESTS);
    expect(r.config.spinUs).toBe(0);
    expect(r.signal).toBe('ring');
    expect(r.digest).toBe(mono.digest);
  });

  it('and counts the same as with spinning: 8 messages per request (and 2 per receive), 4F + 2H bytes copied', () => {
    const e = served(seed, REQUESTS);
    expect(r.counters.ipcMessages).toBe(ipcMessagesOf(r, REQUESTS));
    expect(r.counters.bytesCopied).toBe(4 * e.fileBytes + 2 * e.headerBytes);
    expect(pick(r, COMPARED)).toEqual(pick(mono, COMPARED));
  });
});

// ---- faults under ring signalling

const FAULT_REQUESTS = 1000;
const AT_MESSAGE = 50;
const CALL_TIMEOUT_MS = 20_000;

describe.each(['disk', 'app', 'net'] as ServerName[])(`ring signalling: the %s server crashes at its ${AT_MESSAGE}th message`, (server) => {
  let report: RunReport;
  let wallMs: number;
  let before: Awaited<ReturnType<typeof snapshot>>;
  let after: Awaited<ReturnType<typeof snapshot>>;
  let mark: number;
  beforeAll(async () => {
    before = await snapshot();
    mark = created.length;
    const t0 = performance.now();
    report = await run({
      mode: 'microkernel',
      workload: 'specweb96',
      seed: 1,
      requests: FAULT_REQUESTS,
      transport: 'copy',
      signal: 'ring',
      callTimeoutMs: CALL_TIMEOUT_MS,
      faults: [`${server}@${AT_MESSAGE}`],
    });
    wallMs = performance.now() - t0;
    after = await snapshot();
  }, 120_000);

  it('run() resolves and reports the fault, naming the server; the supervisor restarted it', () => {
    expect(report.signal).toBe('ring');
    expect(report.faults).toEqual([
      {
        server,
        kind: 'crash',
        // where it struck: the 50th message, or for net the first at or after it that is not its device's (see below)
        message: expect.stringContaining(`at its message ${server === 'net' ? report.faults[0]?.atMessage : AT_MESSAGE}`),
        outcome: 'restarted',
        planned: `${server}:crash@message=${AT_MESSAGE}`,
        atMs: expect.any(Number),
        request: expect.any(Number),
        atMessage: expect.any(Number),
        noticedAtMs: expect.any(Number),
        incarnation: 1,
      },
    ]);
    // the first message at or after the 50th that a server sent (net's device messages count, but no fault strikes them)
    expect(report.faults[0].atMessage).toBeGreaterThanOrEqual(AT_MESSAGE);
    if (server !== 'net') expect(report.faults[0].atMessage).toBe(AT_MESSAGE);
    expect(report.servers[server]).toMatchObject({ crashed: true, incarnations: 2, restarts: 1, givenUp: false });
    // the counter slab outlives the incarnation: the new one counts on from there
    expect(report.countersByServer[server].messagesHandled).toBeGreaterThan(AT_MESSAGE);
  });

  it('nothing is left pending, every request is accounted for, and the run went on to the end', () => {
    const o = report.outcomes;
    expect(o.pending).toBe(0);
    expect(o.ok + o.fail + o.info + o.pending + o.notIssued).toBe(FAULT_REQUESTS);
    expect(o.notIssued).toBe(0); // the restart did not cut the run short
    expect(report.endedBy).toBe('requests');
    expect(o.ok).toBeGreaterThan(0);
  });

  it('the requests in flight were settled by the peer\'s death, not by the call deadline', () => {
    expect(wallMs).toBeLessThan(CALL_TIMEOUT_MS);
  });

  it('no worker thread and no MessagePort is left, the restarted incarnation\'s included', () => {
    expect(created.slice(mark).filter((c) => c.type === 'WORKER')).toHaveLength(4); // the check is not vacuous: 3 + the restarted one
    expect(created.slice(mark).filter((c) => c.type === 'MESSAGEPORT').length).toBeGreaterThanOrEqual(4);
    expect(after.workers).toBe(before.workers);
    expect(after.ports).toBe(before.ports);
    if (HAVE_PROC) expect(after.threads).toBe(before.threads);
    expect(survivorsSince(mark)).toEqual([]);
  });
});

// ---- rings too small for the workload's messages

describe('rings smaller than the largest reply (ringBytes 4096: records up to 2040 bytes)', () => {
  // Regression test (was a bug in src/microkernel/ring.ts RingChannel.postMessage, line 279, and
  // service().
  it('no server crashes: oversized messages are refused one by one', async () => {
    const r = await run({
      mode: 'microkernel',
      workload: 'specweb96',
      seed: 1996,
      requests: REQUESTS,
      transport: 'copy',
      signal: 'ring',
      ringBytes: 4096,
      callTimeoutMs: 5_000,
    });
    expect(r.config.ringBytes).toBe(4096);
    expect(r.faults).toEqual([]);
    expect(r.outcomes.pending).toBe(0);
    expect(r.outcomes.notIssued).toBe(0);
    expect(r.outcomes.fail).toBeGreaterThan(0); // the large files
  });
});
