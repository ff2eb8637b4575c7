/**
 * The parts the supervisor and the restartable servers are built from, each
 * in this thread on injected clocks (no sleeping): the restart policy, the
 * heartbeat watch, a domain's capability table (ECALLDENIED, ESTALE, EDEADDST,
 * ESERVERFAILED), the ordered retrying client, net's connections dying with
 * their client, and the wire's link surviving the NIC.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Counters } from '../src/metrics/counters.js';
import type { Msg, Reply, ServerName } from '../src/protocol.js';
import { decideRestart, type RestartPolicy } from '../src/microkernel/supervisor.js';
import { watchHeartbeats, type HeartbeatClock } from '../src/harness/domain.js';
import { Links, type LinkEndpoint } from '../src/microkernel/links.js';
import { RetryingClient } from '../src/servers/retry.js';
import { bootServer, fail, ok, type Handle, type ServerContext } from '../src/servers/server.js';
import { net } from '../src/servers/net.js';
import { NicDevice, WireLink } from '../src/wire/link.js';
import { OpenPorts } from './support/channels.js';
import seedrandom from 'seedrandom';
import { heapBlocks } from '../src/servers/server.js';

const POLICY: RestartPolicy = { maxRestarts: 3, restartWindowMs: 5000, backoffMs: 10, maxBackoffMs: 1000 };

describe('restart policy (OTP intensity, MINIX backoff)', () => {
  it('restarts at once the first time, then backs off exponentially', () => {
    expect(decideRestart([], 0, POLICY)).toEqual({ restart: true, delayMs: 0 });
    expect(decideRestart([0], 100, POLICY)).toEqual({ restart: true, delayMs: 10 });
    expect(decideRestart([0, 100], 200, POLICY)).toEqual({ restart: true, delayMs: 20 });
  });

  it('gives up on more than maxRestarts restarts within the window', () => {
    const d = decideRestart([0, 100, 200], 300, POLICY);
    expect(d.restart).toBe(false);
    if (!d.restart) expect(d.reason).toContain('more than 3 restarts within 5000 ms');
  });

  it('restarts that left the window no longer count', () => {
    expect(decideRestart([0, 100, 200], 5150, POLICY)).toEqual({ restart: true, delayMs: 10 });
    expect(decideRestart([0, 100, 200], 5300, POLICY)).toEqual({ restart: true, delayMs: 0 });
  });

  it('maxRestarts 0 gives up at the first failure; the backoff is capped', () => {
    expect(decideRestart([], 0, { ...POLICY, maxRestarts: 0 }).restart).toBe(false);
    const many = Array.from({ length: 20 }, (_, i) => i);
    expect(decideRestart(many, 20, { ...POLICY, maxRestarts: 100 })).toEqual({ restart: true, delayMs: 1000 });
  });
});

/** A clock the test moves by hand; `every` timers fire on `advance`. */
function virtualClock() {
  let t = 0;
  const timers: { ms: number; next: number; f: () => void }[] = [];
  const clock: HeartbeatClock = {
    now: () => t,
    every(ms, f) {
      const timer = { ms, next: t + ms, f };
      timers.push(timer);
      return () => timers.splice(timers.indexOf(timer), 1);
    },
  };
  const advance = async (ms: number) => {
    const end = t + ms;
    for (;;) {
      const due = timers.filter((x) => x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      t = due.next;
      due.next += due.ms;
      due.f();
      await Promise.resolve();
      await Promise.resolve();
    }
    t = end;
  };
  return { clock, advance, timers };
}

describe('heartbeats on an injected clock', () => {
  it('a domain that stops answering is reported once, after the timeout; one that answers never is', async () => {
    const { clock, advance } = virtualClock();
    const hung: [string, number][] = [];
    const w = watchHeartbeats(1000, (name, ms) => hung.push([name, ms]), clock);
    let answering = true;
    w.add({ name: 'healthy', ping: () => Promise.resolve(true), gone: () => false });
    // answers until t = 2000, then never again
    w.add({ name: 'stuck', ping: () => (answering ? Promise.resolve(true) : new Promise(() => {})), gone: () => false });
    await advance(2000);
    expect(hung).toEqual([]);
    answering = false;
    await advance(900);
    expect(hung).toEqual([]);
    await advance(1500);
    expect(hung.map(([n]) => n)).toEqual(['stuck']);
    expect(hung[0][1]).toBeGreaterThan(1000);
    await advance(5000);
    expect(hung).toHaveLength(1); // once
    w.stop();
  });

  it('a domain that is gone is not pinged and not reported', async () => {
    const { clock, advance, timers } = virtualClock();
    const hung: string[] = [];
    let pings = 0;
    const w = watchHeartbeats(400, (n) => hung.push(n), clock);
    w.add({ name: 'dead', ping: () => (pings++, new Promise(() => {})), gone: () => true });
    await advance(5000);
    expect(pings).toBe(0);
    expect(hung).toEqual([]);
    w.stop();
    expect(timers).toHaveLength(0);
  });
});

/** An endpoint that answers every call with `reply`, recording what it got. */
function fakeEndpoint(reply: (msg: { type: string }) => Reply<unknown> = () => ok({})): LinkEndpoint & { got: string[]; abandoned: boolean } {
  return {
    got: [],
    abandoned: false,
    pendingCalls: 0,
    call(msg) {
      this.got.push(msg.type);
      return Promise.resolve(reply(msg));
    },
    abandon() {
      this.abandoned = true;
    },
  };
}

describe("a domain's capability table", () => {
  it('a server with no channel to another, or one it may only answer on, gets ECALLDENIED, counted', async () => {
    const c = new Counters();
    const links = new Links('disk', c);
    links.up('app', 1, fakeEndpoint(), false); // app may call disk, not the other way round
    expect(await links.call('app', { type: 'X' }, [])).toMatchObject({ ok: false, errno: 'ECALLDENIED' });
    expect(await links.call('net', { type: 'X' }, [])).toMatchObject({ ok: false, errno: 'ECALLDENIED' });
    expect(c.get('callsDenied')).toBe(2);
  });

  it('a handle on an earlier incarnation gets ESTALE and never reaches the new one', async () => {
    const links = new Links('app', new Counters());
    const first = fakeEndpoint();
    const token = links.up('disk', 1, first, true);
    const old: Handle<'disk'> = links.handle('disk');
    expect(old).toEqual({ server: 'disk', gen: 1, state: 'up' });
    expect((await links.call(old, { type: 'DISK_STAT' }, [])).ok).toBe(true);
    // incarnation 1 dies, 2 comes up
    expect(links.down(token)).toBe(true);
    expect(links.handle('disk').state).toBe('down');
    expect(await links.call('disk', { type: 'DISK_STAT' }, [])).toMatchObject({ errno: 'EDEADDST' });
    const second = fakeEndpoint();
    links.up('disk', 2, second, true);
    expect(await links.call(old, { type: 'DISK_STAT' }, [])).toMatchObject({ ok: false, errno: 'ESTALE' });
    expect(second.got).toEqual([]);
    expect((await links.call(links.handle('disk'), { type: 'DISK_STAT' }, [])).ok).toBe(true);
    expect(second.got).toEqual(['DISK_STAT']);
  });

  it('replacing a channel abandons the old one (its calls settle as if the peer died), and its late close changes nothing', async () => {
    const links = new Links('app', new Counters());
    const first = fakeEndpoint();
    const token = links.up('net', 1, first, true);
    links.up('net', 2, fakeEndpoint(), true);
    expect(first.abandoned).toBe(true);
    expect(links.down(token)).toBe(false);
    expect(links.handle('net')).toEqual({ server: 'net', gen: 2, state: 'up' });
  });

  it('a server given up fails fast with ESERVERFAILED; only the incarnation we hold can be given up', async () => {
    const links = new Links('app', new Counters());
    links.up('disk', 3, fakeEndpoint(), true);
    expect(links.failed('disk', 2)).toBe(false);
    expect(links.failed('disk', 3)).toBe(true);
    expect(await links.call('disk', { type: 'DISK_STAT' }, [])).toMatchObject({ errno: 'ESERVERFAILED' });
    links.awaiting('net', 1, true);
    expect(await links.call('net', { type: 'NET_ACCEPT' }, [])).toMatchObject({ errno: 'ESERVERFAILED' });
  });

  it("given up stays given up when the dead incarnation's channel closes after the supervisor's word", async () => {
    const links = new Links('app', new Counters());
    const token = links.up('disk', 3, fakeEndpoint(), true);
    // the control message that the disk was given up can come before the close of its channel
    expect(links.failed('disk', 3)).toBe(true);
    expect(links.down(token)).toBe(true);
    expect(links.handle('disk').state).toBe('failed');
    // so a call fails for good (the app answers 503) instead of EDEADDST, which it would retry until its deadline
    expect(await links.call('disk', { type: 'DISK_STAT' }, [])).toMatchObject({ errno: 'ESERVERFAILED' });
  });
});

/** A context whose `disk` dies and comes back as the test says, with sleeps on a counter, not a clock. */
function restartingContext() {
  let gen = 1;
  let state: Handle['state'] = 'up';
  const applied: string[] = [];
  const inFlight: { msg: string; settle: (r: Reply<unknown>) => void }[] = [];
  let slept = 0;
  const counters = new Counters();
  const ctx: ServerContext = {
    name: 'app',
    blocks: heapBlocks,
    counters,
    rng: seedrandom('x'),
    handle: ((to: ServerName) => ({ server: to, gen, state })) as ServerContext['handle'],
    sleep: async () => {
      slept++;
      await Promise.resolve();
    },
    call: ((to: ServerName | Handle, msg: { type: string; offset?: number }) => {
      const h = typeof to === 'string' ? { gen } : to;
      if (h.gen !== gen) return Promise.resolve(fail('ESTALE'));
      if (state !== 'up') return Promise.resolve(fail(state === 'failed' ? 'ESERVERFAILED' : 'EDEADDST'));
      const label = `${msg.type}@${msg.offset ?? ''}#${gen}`;
      return new Promise((settle) => inFlight.push({ msg: label, settle }));
    }) as ServerContext['call'],
  };
  return {
    ctx,
    counters,
    applied,
    inFlight,
    slept: () => slept,
    /** The disk answers everything in flight, in order. */
    answerAll() {
      for (const f of inFlight.splice(0)) {
        applied.push(f.msg);
        f.settle(ok({ length: 1 }));
      }
    },
    /** The disk dies: what is in flight settles EPEERDIED (it may or may not have been applied). */
    die() {
      state = 'down';
      for (const f of inFlight.splice(0)) f.settle(fail('EPEERDIED'));
    },
    comeBack() {
      gen++;
      state = 'up';
    },
    giveUp() {
      state = 'failed';
    },
  };
}

const flush = async (n = 20) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe('a client repeating what is safe to repeat, in order', () => {
  it('writes that died with the disk go again to its next incarnation in the order they were first sent', async () => {
    const t = restartingContext();
    const client = new RetryingClient('disk', t.ctx, { attempts: 5, waitMs: 10_000 });
    const write = (offset: number) => client.call(t.ctx, { type: 'DISK_WRITE', ino: 0, offset, data: [] } as Msg<'disk', 'DISK_WRITE'>);
    const results = [write(1), write(2), write(3)];
    await flush();
    expect(t.inFlight.map((f) => f.msg)).toEqual(['DISK_WRITE@1#1', 'DISK_WRITE@2#1', 'DISK_WRITE@3#1']);
    t.die();
    await flush();
    const later = write(4); // sent while the disk is down: it waits at the same gate, behind the others
    await flush();
    expect(t.inFlight).toEqual([]);
    expect(t.slept()).toBeGreaterThan(0);
    t.comeBack();
    await flush(200);
    expect(t.inFlight.map((f) => f.msg)).toEqual(['DISK_WRITE@1#2', 'DISK_WRITE@2#2', 'DISK_WRITE@3#2', 'DISK_WRITE@4#2']);
    t.answerAll();
    for (const r of await Promise.all([...results, later])) expect(r.ok).toBe(true);
    // the three that died with the disk were repeated; the fourth waited and went once
    expect(t.counters.get('retries')).toBe(3);
  });

  it('gives the error back when the server is given up, or the attempts run out', async () => {
    const t = restartingContext();
    const client = new RetryingClient('disk', t.ctx, { attempts: 2, waitMs: 10_000 });
    const r = client.call(t.ctx, { type: 'DISK_LOOKUP', path: '/a' });
    await flush();
    t.die();
    await flush();
    t.giveUp();
    expect(await r).toMatchObject({ ok: false, errno: 'ESERVERFAILED' });
  });

  it('does not repeat an error that is not about a restart', async () => {
    const t = restartingContext();
    const client = new RetryingClient('disk', t.ctx, { attempts: 5, waitMs: 10_000 });
    const r = client.call(t.ctx, { type: 'DISK_LOOKUP', path: '/a' });
    await flush();
    t.inFlight.shift()!.settle(fail('ENOENT'));
    expect(await r).toMatchObject({ errno: 'ENOENT' });
    expect(t.counters.get('retries')).toBe(0);
  });

  it('stops waiting for a new incarnation after waitMs of sleeps', async () => {
    const t = restartingContext();
    const client = new RetryingClient('disk', t.ctx, { attempts: 5, waitMs: 100 });
    const r = client.call(t.ctx, { type: 'DISK_LOOKUP', path: '/a' });
    await flush();
    t.die();
    // the call's own error comes back (it may have been done), after one wait, not five
    expect(await r).toMatchObject({ ok: false, errno: 'EPEERDIED' });
    expect(t.slept()).toBeGreaterThan(0);
    expect(t.slept()).toBeLessThan(20);
    expect(t.counters.get('retries')).toBe(1);
  });
});

/** net booted alone: a context per caller, and a device that records what went out. */
function netAlone() {
  const sent: number[] = [];
  const counters = new Counters();
  const base = { name: 'net' as const, blocks: heapBlocks, counters, rng: seedrandom('x'), call: (() => Promise.resolve(fail('ECALLDENIED'))) as ServerContext['call'], handle: (() => ({ server: 'app', gen: 1, state: 'up' })) as ServerContext['handle'], sleep: async () => {} };
  const srv = bootServer(net, { mtu: 1500, checksumOffload: false, device: { transmit: (id) => sent.push(id) } }, base);
  const as = (server: ServerName | 'device', gen: number): ServerContext => ({ ...base, caller: { server, gen } });
  return { srv, sent, counters, as };
}

describe("net's connections belong to the client that took them", () => {
  it('requests wait in a queue for receives, and a send ends the request', async () => {
    const n = netAlone();
    const device = n.as('device', 0);
    const app = n.as('app', 1);
    const recv = n.srv.dispatch({ type: 'NET_RECV', reqId: 7, request: 'GET /a HTTP/1.0' } as never, device) as Promise<Reply<{ status: number }>>;
    const taken = (await n.srv.dispatch({ type: 'NET_ACCEPT' }, app)) as Reply<{ reqId: number }>;
    expect(taken).toMatchObject({ ok: true, value: { reqId: 7, request: 'GET /a HTTP/1.0' } });
    // another client (or an old incarnation) cannot answer it
    expect(await n.srv.dispatch({ type: 'NET_SEND', reqId: 7, status: 200, body: [] } as never, n.as('app', 2))).toMatchObject({ errno: 'ECONNRESET' });
    expect(await n.srv.dispatch({ type: 'NET_SEND', reqId: 7, status: 200, body: [new Uint8Array(3)] } as never, app)).toMatchObject({ ok: true });
    expect(await recv).toEqual({ ok: true, value: { status: 200 } });
    expect(n.sent).toEqual([7]);
  });

  it('a client that dies takes its connections and receives with it; the others keep theirs', async () => {
    const n = netAlone();
    const device = n.as('device', 0);
    const recvs = [1, 2, 3].map((reqId) => n.srv.dispatch({ type: 'NET_RECV', reqId, request: 'GET /a HTTP/1.0' } as never, device) as Promise<Reply<unknown>>);
    await n.srv.dispatch({ type: 'NET_ACCEPT' }, n.as('app', 1)); // takes 1
    await n.srv.dispatch({ type: 'NET_ACCEPT' }, n.as('app', 2)); // takes 2 (a newer incarnation)
    const waiting = n.srv.dispatch({ type: 'NET_ACCEPT' }, n.as('app', 1)); // takes 3
    await waiting;
    const idle = n.srv.dispatch({ type: 'NET_ACCEPT' }, n.as('app', 1)) as Promise<Reply<unknown>>; // waits: nothing queued
    n.srv.clientDied({ server: 'app', gen: 1 }, false);
    expect(await recvs[0]).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    expect(await recvs[2]).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    expect(n.counters.get('connectionsReset')).toBe(2);
    // a new request goes to a live client's receive, never to the dead one's
    const r4 = n.srv.dispatch({ type: 'NET_RECV', reqId: 4, request: 'GET /b HTTP/1.0' } as never, device);
    let idleSettled = false;
    void idle.then(() => (idleSettled = true));
    await flush();
    expect(idleSettled).toBe(false);
    const taken = (await n.srv.dispatch({ type: 'NET_ACCEPT' }, n.as('app', 2))) as Reply<{ reqId: number }>;
    expect(taken).toMatchObject({ ok: true, value: { reqId: 4 } });
    // request 2 is still open for incarnation 2
    expect(await n.srv.dispatch({ type: 'NET_SEND', reqId: 2, status: 200, body: [] } as never, n.as('app', 2))).toMatchObject({ ok: true });
    expect(await recvs[1]).toMatchObject({ ok: true });
    void r4;
  });

  it('a client given up for good: queued and later requests are refused', async () => {
    const n = netAlone();
    const device = n.as('device', 0);
    const queued = n.srv.dispatch({ type: 'NET_RECV', reqId: 1, request: 'GET /a HTTP/1.0' } as never, device);
    n.srv.clientDied({ server: 'app', gen: 1 }, true);
    expect(await queued).toMatchObject({ errno: 'ECONNREFUSED' });
    expect(await n.srv.dispatch({ type: 'NET_RECV', reqId: 2, request: 'GET /a HTTP/1.0' } as never, device)).toMatchObject({ errno: 'ECONNREFUSED' });
  });

  it('the wire closing ends every waiting receive, and later ones at once', async () => {
    const n = netAlone();
    const app = n.as('app', 1);
    const a = n.srv.dispatch({ type: 'NET_ACCEPT' }, app);
    const b = n.srv.dispatch({ type: 'NET_ACCEPT' }, app);
    expect(await n.srv.dispatch({ type: 'NET_CLOSE' }, n.as('device', 0))).toEqual({ ok: true, value: { accepts: 2 } });
    expect(await a).toMatchObject({ errno: 'ESHUTDOWN' });
    expect(await b).toMatchObject({ errno: 'ESHUTDOWN' });
    expect(await n.srv.dispatch({ type: 'NET_ACCEPT' }, app)).toMatchObject({ errno: 'ESHUTDOWN' });
  });
});

describe("the clients' link outlives the NIC", () => {
  const ports = new OpenPorts();
  afterEach(() => ports.closeAll());

  /** A NIC whose net answers every request at once with status 200, or never (`hold`). */
  function nic(hold = false) {
    const ch = ports.channel();
    const device = new NicDevice(ch.port2);
    device.attach((msg) => {
      if (msg.type === 'NET_CLOSE') return ok({ accepts: 0 });
      if (hold) return new Promise(() => {});
      device.transmit(msg.reqId, 200, []);
      return ok({ status: 200 });
    });
    return ch;
  }

  it('answers come back with the hash the NIC computed', async () => {
    const link = new WireLink(60_000);
    link.attach(nic().port1);
    const a = await link.send(1, 'GET /a HTTP/1.0');
    expect(a.r).toEqual({ ok: true, value: { status: 200 } });
    expect(typeof a.hash).toBe('number');
    await link.close();
    link.detach();
  });

  it('a NIC that goes resets what was in flight; requests sent meanwhile wait for the next one', async () => {
    const link = new WireLink(60_000);
    const first = nic(true);
    link.attach(first.port1);
    const inFlight = link.send(1, 'GET /a HTTP/1.0');
    await flush();
    first.port2.close(); // the net server's domain died
    expect((await inFlight).r).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    expect(link.resets).toBe(1);
    const waiting = link.send(2, 'GET /b HTTP/1.0');
    let settled = false;
    void waiting.then(() => (settled = true));
    await flush();
    expect(settled).toBe(false);
    link.attach(nic().port1); // the next incarnation
    expect((await waiting).r).toEqual({ ok: true, value: { status: 200 } });
    link.detach();
  });

  it('a system that went down: in flight and resent requests end unknown, new ones are refused', async () => {
    const link = new WireLink(60_000);
    link.attach(nic(true).port1);
    const inFlight = link.send(1, 'GET /a HTTP/1.0');
    await flush();
    link.fail();
    expect((await inFlight).r).toMatchObject({ errno: 'ESHUTDOWN' });
    expect((await link.send(2, 'GET /b HTTP/1.0')).r).toMatchObject({ errno: 'ECONNREFUSED' });
    expect((await link.send(1, 'GET /a HTTP/1.0', undefined, true)).r).toMatchObject({ errno: 'ESHUTDOWN' });
    expect(link.failed).toBe(true);
  });
});
