/**
 * `serve` under load when a server fails: in the microkernel the supervisor
 * restarts it and the service goes on (net's death resets the connections it
 * held and the socket listens again on the same port; disk's is hidden by the
 * app's retries; the app's resets only the connections of the requests it
 * held); in the monolith the same fault is a panic, and serving ends by
 * itself. Eight keep-alive clients on 127.0.0.1, bounded counts, every wait
 * with a deadline.
 */
import { describe, expect, it } from 'vitest';
import { fileSet } from '../src/workload/generate.js';
import { loadWorkload } from '../src/workload/load.js';
import type { ServeReport } from '../src/serve.js';
import { get, getUntilAnswered, load, tally, within, type Got } from './support/http-clients.js';
import { rawExchange, startServe } from './support/serving.js';

/** specweb96's files of at most 20 KB: each response leaves in one write. */
const PATHS = fileSet(loadWorkload('specweb96'))
  .filter((f) => f.size <= 20_000)
  .map((f) => f.path);
const CLIENTS = 8;
const PER_CLIENT = 150;
/** What a client sees when the connection its request is on goes down. */
const CUT = new Set(['ECONNRESET', 'EPIPE']);

const count = (got: readonly Got[], p: (g: Got) => boolean) => got.filter(p).length;
const is200 = (g: Got) => 'status' in g && g.status === 200;
const isCut = (g: Got) => 'error' in g && CUT.has(g.error);

/** The load, then one request that must be answered 200 (the service is back), then the report. */
async function loadThenStop(faults: string[]) {
  const s = await startServe({ mode: 'microkernel', faults });
  const l = await within(load(s.port, { clients: CLIENTS, perClient: PER_CLIENT, paths: PATHS }), 30_000, 'the load');
  const after = await getUntilAnswered(s.port, '/dir000/class1_0', { tries: 100, gapMs: 20 });
  expect(after.got).toEqual({ status: 200, bytes: 1024, connection: 'close' });
  const r = await within(s.stop(), 15_000, 'the report');
  return { l, got: [...l.got, after.got], r };
}

function expectOneRestart(r: ServeReport, server: 'net' | 'disk' | 'app', spec: string): void {
  for (const s of ['net', 'disk', 'app'] as const) expect(r.servers[s].restarts, s).toBe(s === server ? 1 : 0);
  expect(r.servers[server].incarnations).toBe(2);
  expect(r.servers[server].recoveryMs?.count).toBe(1);
  expect(r.faults).toHaveLength(1);
  expect(r.faults[0]).toMatchObject({ server, kind: 'crash', outcome: 'restarted', planned: spec });
  expect(r.faultPlan).toMatchObject([{ spec, struck: true }]);
  expect(r.endedBy).toBe('stop');
}

describe('serve under the microkernel: a server fails under load and is restarted', () => {
  it('net crashes: the connections it held are reset, the socket listens again on its port, and the report counts the resets', async () => {
    const { l, got, r } = await loadThenStop(['net:crash@request=200']);
    const t = tally(got);
    expect(Object.keys(t).every((k) => k === '200' || CUT.has(k)), JSON.stringify(t)).toBe(true);
    // one request of each client at most was on a connection net held when it died
    const cut = count(got, isCut);
    expect(cut).toBeGreaterThanOrEqual(1);
    expect(cut).toBeLessThanOrEqual(CLIENTS);
    expect(got).toHaveLength(CLIENTS * PER_CLIENT + 1);
    // the clients reconnected where they were: refused while net was down, then served
    expect(l.refused).toBeLessThan(2000);
    expect(r.http.events.connections).toBeGreaterThan(CLIENTS);
    expect(r.http.listens).toBe(2);
    expectOneRestart(r, 'net', 'net:crash@request=200');
    // (it strikes at net's first message once 200 requests were issued)
    expect(r.faults[0].request).toBeGreaterThanOrEqual(200);
    // what the clients got is what the report counts: the 200s, and the requests net died holding as
    // unknown outcomes (a reset settles every request issued and not settled: info, resets, events.reset)
    expect(r.outcomes.ok).toBe(count(got, is200));
    expect(r.http.statuses).toEqual({ 200: r.outcomes.ok });
    expect(r.outcomes.fail).toBe(0);
    expect(r.outcomes.pending).toBe(0);
    expect(r.outcomes.info).toBeGreaterThanOrEqual(1);
    expect(r.resets).toBe(r.outcomes.info);
    expect(r.http.events.reset).toBe(r.outcomes.info);
    // a request the device had not handed to net when it died was never counted: cut, but no outcome
    expect(r.outcomes.info).toBeLessThanOrEqual(cut);
    expect(r.status).toBe('incomplete');
    expect(r.problems).toContain(`${r.outcomes.info} of ${r.outcomes.ok + r.outcomes.info} requests did not end ok (0 failed, ${r.outcomes.info} with unknown outcome)`);
  });

  it('disk crashes: the app repeats its reads on the next incarnation; every request is answered, none is reset', async () => {
    const { got, r } = await loadThenStop(['disk:crash@request=200']);
    const t = tally(got);
    expect(Object.keys(t).every((k) => k === '200' || k === '503'), JSON.stringify(t)).toBe(true);
    expect(got).toHaveLength(CLIENTS * PER_CLIENT + 1);
    // the service went on: each client's last requests were served
    expect(got.slice(-CLIENTS).every(is200)).toBe(true);
    expectOneRestart(r, 'disk', 'disk:crash@request=200');
    expect(r.http.listens).toBe(1);
    expect(r.http.events.connections).toBe(CLIENTS + 1);
    expect(r.retries.calls).toBeGreaterThanOrEqual(1);
    expect(r.outcomes).toEqual({ ok: t['200'], fail: t['503'] ?? 0, info: 0, pending: 0, notIssued: 0 });
    expect(r.http.statuses).toEqual({ 200: t['200'], ...(t['503'] ? { 503: t['503'] } : {}) });
    expect(r.resets).toBe(0);
    expect(r.http.events.reset).toBe(0);
  });

  it('the app crashes: the connections of the requests it held are reset, the others wait for the next app', async () => {
    const { got, r } = await loadThenStop(['app:crash@request=200']);
    const t = tally(got);
    expect(Object.keys(t).every((k) => k === '200' || CUT.has(k)), JSON.stringify(t)).toBe(true);
    const cut = count(got, isCut);
    expect(cut).toBeGreaterThanOrEqual(1);
    expect(cut).toBeLessThanOrEqual(CLIENTS);
    expectOneRestart(r, 'app', 'app:crash@request=200');
    // net and its socket lived on: one listen, and each reset is a request net had handed the app
    expect(r.http.listens).toBe(1);
    expect(r.counters.connectionsReset).toBe(cut);
    expect(r.resets).toBe(cut);
    expect(r.http.events.reset).toBe(cut);
    expect(r.outcomes).toEqual({ ok: count(got, is200), fail: 0, info: cut, pending: 0, notIssued: 0 });
    expect(r.http.statuses).toEqual({ 200: r.outcomes.ok });
  });
});

describe('serve under the monolith: the same fault is a panic', () => {
  it('net crashes: the system goes down, serving ends by itself (failed, ended by the fault), and later connections are refused', async () => {
    const s = await startServe({ mode: 'monolithic', faults: ['net:crash@request=200'] });
    let ended = false;
    void s.ended.then(() => (ended = true));
    // refusals are outcomes here: nothing comes back to listen again
    const l = await within(load(s.port, { clients: CLIENTS, perClient: 60, paths: PATHS, maxRefused: 0 }), 30_000, 'the load');
    const r = await within(s.ended, 15_000, 'serving ending by itself');
    expect(ended).toBe(true);
    const t = tally(l.got);
    expect(Object.keys(t).every((k) => k === '200' || k === 'ECONNREFUSED' || CUT.has(k)), JSON.stringify(t)).toBe(true);
    expect(r.status).toBe('failed');
    expect(r.endedBy).toBe('fault');
    expect(r.faults).toHaveLength(1);
    expect(r.faults[0]).toMatchObject({ server: 'net', kind: 'panic', outcome: 'system-down', planned: 'net:crash@request=200' });
    const struck = r.faults[0].request!;
    expect(struck).toBeGreaterThanOrEqual(200);
    expect(r.problems[0]).toMatch(/^net panicked the kernel: /);
    for (const s of ['net', 'disk', 'app'] as const) expect(r.servers[s].restarts).toBe(0);
    expect(r.http.listens).toBe(1);
    // of the requests issued when it struck, all but those in flight (one a client at most) were served, and nothing after
    expect(r.outcomes.ok).toBe(t['200']);
    expect(r.outcomes.ok).toBeLessThanOrEqual(struck);
    expect(r.outcomes.ok).toBeGreaterThanOrEqual(struck - CLIENTS);
    expect(r.outcomes.pending).toBe(0);
    expect(r.outcomes.fail).toBe(0);
    expect(r.resets).toBe(r.outcomes.info);
    expect(r.http.statuses).toEqual({ 200: r.outcomes.ok });
    // nothing listens any more
    expect(await get(s.port, '/', { timeoutMs: 2000 })).toEqual({ error: 'ECONNREFUSED' });
    expect((await rawExchange(s.port, ['GET / HTTP/1.1\r\nHost: t\r\n\r\n'], { waitMs: 2000 })).error).toBe('ECONNREFUSED');
    // stop after the end: the same report
    expect(await within(s.stop(), 5000, 'stop after the end')).toBe(r);
  });
});
