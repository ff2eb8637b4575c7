/**
 * The net server in-process: `cutFrames`, and the NET_RECV / NET_ACCEPT /
 * NET_SEND / NET_CLOSE handlers and `clientDied` called through
 * `bootServer(net, ...)` with a fake NetDevice and a hand-made ServerContext
 * (the caller of each message set per invocation, as the kernels set it).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { Counters } from '../src/metrics/counters.js';
import type { Reply } from '../src/protocol.js';
import { inetChecksum } from '../src/servers/inet-checksum.js';
import { DEVICE_CALLER, FRAME_HEADER_BYTES, cutFrames, net, type Frame, type NetDevice } from '../src/servers/net.js';
import { bootServer, type Caller } from '../src/servers/server.js';
import { concat } from './support/bytes.js';
import { serverContext } from './support/contexts.js';

/** `n` bytes that differ from position to position, starting at value `from`. */
function bytes(n: number, from = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (from + i * 7) & 0xff);
}

describe('cutFrames', () => {
  // [what, slice lengths, mtu, expected frame payload lengths]
  const cases: [string, number[], number, number[]][] = [
    ['one small slice', [1000], 1500, [1000]],
    ['one slice of exactly one mss', [1460], 1500, [1460]],
    ['one slice over two frames and a bit', [3000], 1500, [1460, 1460, 80]],
    ['exactly two mss, no empty trailer', [1460, 1460], 1500, [1460, 1460]],
    ['header + 2 blocks + tail', [38, 4096, 4096, 100], 1500, [1460, 1460, 1460, 1460, 1460, 1030]],
    ['many small slices, mtu 576', Array(500).fill(10), 576, [...Array(9).fill(536), 176]],
    ['jumbo mtu 9000', [4096, 4096, 4096], 9000, [8960, 3328]],
    ['mss of 1 byte (mtu 41)', [3, 2], 41, [1, 1, 1, 1, 1]],
    ['an empty body still sends one frame', [], 1500, [0]],
    ['empty slices only', [0, 0, 0], 1500, [0]],
    ['empty slices between data', [0, 700, 0, 800, 0], 1500, [1460, 40]],
  ];
  for (const [what, lengths, mtu, expected] of cases) {
    it(`${what}: ${lengths.length} slices, mtu ${mtu}`, () => {
      const body = lengths.map((n, i) => bytes(n, i * 31));
      const mss = mtu - FRAME_HEADER_BYTES;
      const frames = cutFrames(body, mss);
      expect(frames.map((f) => f.length)).toEqual(expected);
      for (const f of frames) {
        expect(f.length).toBeLessThanOrEqual(mss);
        expect(f.segments.reduce((n, s) => n + s.length, 0)).toBe(f.length);
        expect(f.checksum).toBeNull();
      }
      expect(concat(frames.flatMap((f) => f.segments))).toEqual(concat(body));
    });
  }

  it('segments are views of the body slices, not copies', () => {
    const body = [bytes(3000), bytes(500, 1)];
    const frames = cutFrames(body, 1460);
    const buffers = new Set(body.map((s) => s.buffer));
    for (const seg of frames.flatMap((f) => f.segments)) expect(buffers.has(seg.buffer)).toBe(true);
    // a slice that fits whole is passed on as the same object
    const small = bytes(10);
    expect(cutFrames([small], 1460)[0].segments[0]).toBe(small);
  });

  it('any body and mss: frames <= mss, ceil(total/mss) of them (at least one), bytes in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 9000 }),
        (body, mss) => {
          const total = body.reduce((n, s) => n + s.length, 0);
          const frames = cutFrames(body, mss);
          expect(frames.length).toBe(Math.max(1, Math.ceil(total / mss)));
          for (const f of frames) expect(f.length).toBeLessThanOrEqual(mss);
          expect(concat(frames.flatMap((f) => f.segments))).toEqual(concat(body));
        },
      ),
      { numRuns: 300 },
    );
  });
});

class FakeDevice implements NetDevice {
  readonly sent: { reqId: number; status: number; frames: Frame[] }[] = [];
  transmit(reqId: number, status: number, frames: Frame[]): void {
    this.sent.push({ reqId, status, frames });
  }
}

/** A reply promise, and whether it has settled yet. */
function watched<T>(p: Reply<T> | Promise<Reply<T>>) {
  const w = { settled: false, value: undefined as Reply<T> | undefined, promise: Promise.resolve(p) };
  void w.promise.then((v) => {
    w.settled = true;
    w.value = v;
  });
  return w;
}

/** Let pending promise callbacks run. */
const flush = () => new Promise<void>((res) => setImmediate(res));

const APP_1: Caller = { server: 'app', gen: 1 };
const APP_2: Caller = { server: 'app', gen: 2 };

function boot(opts: { mtu?: number; checksumOffload?: boolean } = {}) {
  const counters = new Counters();
  const device = new FakeDevice();
  const call = vi.fn(() => {
    throw new Error('net calls no one');
  });
  const ctx = serverContext('net', counters, call);
  const srv = bootServer(net, { mtu: opts.mtu ?? 1500, checksumOffload: opts.checksumOffload ?? false, device }, ctx);
  /** A message from `caller` (default: the lone test context, which counts as the app's first incarnation). */
  const send = (msg: { type: string; [k: string]: unknown }, caller?: Caller) =>
    srv.dispatch(msg, caller ? { ...ctx, caller } : ctx) as Reply<any> | Promise<Reply<any>>;
  /** A request from the wire (the device in net's domain): its reply, watched. */
  const recv = (reqId: number, request = 'GET / HTTP/1.0', body?: Uint8Array[]) =>
    watched(send({ type: 'NET_RECV', reqId, request, ...(body ? { body } : {}) }, DEVICE_CALLER));
  const accept = (caller?: Caller) => watched(send({ type: 'NET_ACCEPT' }, caller));
  /** Request `reqId` arrives and `caller` takes it: it is open, held by `caller`. */
  const open = async (reqId: number, caller?: Caller) => {
    const r = recv(reqId);
    const a = accept(caller);
    expect(await a.promise).toMatchObject({ ok: true, value: { reqId } });
    return r;
  };
  return { counters, device, send, recv, accept, open, call, srv };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('net: NET_SEND', () => {
  it('hands the frames to the device with reqId and status, and replies frames + wireBytes', async () => {
    const { send, device, open } = boot();
    await open(7);
    const body = [bytes(20), bytes(3000, 5)];
    // 3020 bytes, mss 1460: frames 1460, 1460, 100; wire = 3020 + 3 * 40
    expect(await send({ type: 'NET_SEND', reqId: 7, status: 200, body })).toEqual({
      ok: true,
      value: { frames: 3, wireBytes: 3140 },
    });
    expect(device.sent).toHaveLength(1);
    expect(device.sent[0].reqId).toBe(7);
    expect(device.sent[0].status).toBe(200);
    expect(device.sent[0].frames.map((f) => f.length)).toEqual([1460, 1460, 100]);
  });

  it("each frame's checksum is the RFC 1071 checksum of that frame's payload", async () => {
    const { send, device, open } = boot({ mtu: 576 }); // mss 536, frames start at odd offsets inside slices
    await open(1);
    const body = [bytes(37), bytes(4096, 3), bytes(1, 9), bytes(999, 11)];
    await send({ type: 'NET_SEND', reqId: 1, status: 200, body });
    const whole = concat(body); // 5133 bytes
    const frames = device.sent[0].frames;
    expect(frames).toHaveLength(10); // 9 * 536 = 4824, + 309
    frames.forEach((f, i) => {
      const payload = whole.slice(i * 536, i * 536 + f.length); // a contiguous, aligned copy
      expect(f.checksum).toBe(inetChecksum(payload));
    });
    // the checksums are not all the same value (they really depend on the payload)
    expect(new Set(frames.map((f) => f.checksum)).size).toBeGreaterThan(1);
  });

  it('an empty body is one empty frame with the empty-stream checksum 0xffff', async () => {
    const { send, device, counters, open } = boot();
    await open(2);
    expect(await send({ type: 'NET_SEND', reqId: 2, status: 404, body: [] })).toEqual({
      ok: true,
      value: { frames: 1, wireBytes: 40 },
    });
    expect(device.sent[0].frames.map((f) => ({ checksum: f.checksum, segments: f.segments, length: f.length }))).toEqual([{ checksum: 0xffff, segments: [], length: 0 }]);
    expect(counters.get('framesSent')).toBe(1);
    expect(counters.get('payloadBytes')).toBe(0);
    expect(counters.get('wireBytes')).toBe(40);
  });

  it('counts framesSent, payloadBytes, wireBytes and bytesChecksummed exactly, across sends', async () => {
    const { send, counters, open } = boot();
    for (const id of [1, 2, 3]) await open(id);
    await send({ type: 'NET_SEND', reqId: 1, status: 200, body: [bytes(20), bytes(3000)] }); // 3 frames, 3020 B
    await send({ type: 'NET_SEND', reqId: 2, status: 200, body: [bytes(1460)] }); // 1 frame, 1460 B
    await send({ type: 'NET_SEND', reqId: 3, status: 200, body: [] }); // 1 frame, 0 B
    expect(counters.get('framesSent')).toBe(5);
    expect(counters.get('payloadBytes')).toBe(4480);
    expect(counters.get('wireBytes')).toBe(4480 + 5 * 40);
    expect(counters.get('bytesChecksummed')).toBe(4480);
    // the kernel counts the messages a server handles (faults/inject.ts), not the server's dispatch
    expect(counters.get('messagesHandled')).toBe(0);
  });

  it('with checksum offload, checksums are null and nothing is checksummed in software', async () => {
    const { send, counters, device, open } = boot({ checksumOffload: true });
    await open(1);
    const r = await send({ type: 'NET_SEND', reqId: 1, status: 200, body: [bytes(20), bytes(3000)] });
    expect(r).toEqual({ ok: true, value: { frames: 3, wireBytes: 3140 } });
    expect(device.sent[0].frames.map((f) => f.checksum)).toEqual([null, null, null]);
    expect(counters.get('bytesChecksummed')).toBe(0);
    expect(counters.get('rxBytesChecksummed')).toBe(0);
    expect(counters.get('framesSent')).toBe(3);
    expect(counters.get('payloadBytes')).toBe(3020);
    expect(counters.get('wireBytes')).toBe(3140);
  });

  it('frames carry views of the body (no copy on the way to the device)', async () => {
    const { send, device, open } = boot();
    await open(1);
    const block = bytes(4096);
    await send({ type: 'NET_SEND', reqId: 1, status: 200, body: [block] });
    for (const f of device.sent[0].frames) for (const s of f.segments) expect(s.buffer).toBe(block.buffer);
  });

  it('a malformed body is EINVAL: nothing sent, nothing counted, and the request stays open', async () => {
    const { send, counters, device, open } = boot();
    const r = await open(1);
    const bad: unknown[] = [undefined, null, 'abc', 42, new Uint8Array(4), [1, 2, 3], [bytes(3), 'x'], [new DataView(new ArrayBuffer(2))], { length: 1, 0: bytes(1) }];
    for (const body of bad) {
      expect(await send({ type: 'NET_SEND', reqId: 1, status: 200, body })).toMatchObject({ ok: false, errno: 'EINVAL' });
    }
    expect(device.sent).toHaveLength(0);
    expect(counters.get('framesSent') + counters.get('payloadBytes') + counters.get('wireBytes')).toBe(0);
    expect(counters.get('bytesChecksummed')).toBe(0);
    await flush();
    expect(r.settled).toBe(false);
    expect(await send({ type: 'NET_SEND', reqId: 1, status: 200, body: [] })).toMatchObject({ ok: true });
  });

  it('a send for a request that is not open (never arrived, not taken yet, or already answered) is ECONNRESET: nothing sent', async () => {
    const { send, device, recv, open } = boot();
    expect(await send({ type: 'NET_SEND', reqId: 99, status: 200, body: [] })).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    await open(6);
    expect(await send({ type: 'NET_SEND', reqId: 6, status: 200, body: [] })).toMatchObject({ ok: true });
    expect(await send({ type: 'NET_SEND', reqId: 6, status: 200, body: [] })).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    const queued = recv(5); // arrived, but no client took it
    expect(await send({ type: 'NET_SEND', reqId: 5, status: 200, body: [] })).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    expect(device.sent.map((d) => d.reqId)).toEqual([6]);
    await flush();
    expect(queued.settled).toBe(false);
  });

  it('only the incarnation that took a request may answer it', async () => {
    const { send, device, open } = boot();
    const r = await open(8, APP_1);
    // a later incarnation of the app, or a lone context counted as the app's first: only the holder
    expect(await send({ type: 'NET_SEND', reqId: 8, status: 200, body: [] }, APP_2)).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    expect(await send({ type: 'NET_SEND', reqId: 8, status: 200, body: [] }, { server: 'disk', gen: 1 })).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    expect(device.sent).toHaveLength(0);
    expect(await send({ type: 'NET_SEND', reqId: 8, status: 201, body: [] }, APP_1)).toMatchObject({ ok: true });
    expect(await r.promise).toEqual({ ok: true, value: { status: 201 } });
    // a lone context without a caller counts as the app's first incarnation
    const r2 = await open(9, APP_1);
    expect(await send({ type: 'NET_SEND', reqId: 9, status: 200, body: [] })).toMatchObject({ ok: true });
    expect(await r2.promise).toEqual({ ok: true, value: { status: 200 } });
  });

  it('init refuses an MTU that leaves no payload or exceeds 65535', () => {
    for (const mtu of [40, 0, -1, 65536, 1500.5]) expect(() => boot({ mtu })).toThrow(RangeError);
    expect(() => boot({ mtu: 41 })).not.toThrow();
  });
});

describe('net: NET_RECV and NET_ACCEPT', () => {
  it('holds the request until a receive takes it, and answers with its status once NET_SEND put the response on the wire', async () => {
    const { send, recv, accept, device, call } = boot();
    const r = recv(12, 'GET /x HTTP/1.0');
    await flush();
    expect(r.settled).toBe(false);
    const a = accept();
    expect(await a.promise).toEqual({ ok: true, value: { reqId: 12, request: 'GET /x HTTP/1.0' } });
    await flush();
    expect(r.settled).toBe(false); // taken, not answered
    expect(device.sent).toHaveLength(0); // the client sends the response, not NET_RECV
    expect(await send({ type: 'NET_SEND', reqId: 12, status: 404, body: [] })).toMatchObject({ ok: true });
    expect(await r.promise).toEqual({ ok: true, value: { status: 404 } });
    expect(device.sent.map((d) => [d.reqId, d.status])).toEqual([[12, 404]]);
    expect(call).not.toHaveBeenCalled(); // net calls no one
  });

  it('a receive with nothing queued waits for the next request; queued requests go out oldest first', async () => {
    const { recv, accept } = boot();
    const early = accept();
    await flush();
    expect(early.settled).toBe(false);
    recv(1, 'GET /1 HTTP/1.0');
    expect(await early.promise).toMatchObject({ ok: true, value: { reqId: 1, request: 'GET /1 HTTP/1.0' } });
    recv(2, 'GET /2 HTTP/1.0');
    recv(3, 'GET /3 HTTP/1.0');
    expect(await accept().promise).toMatchObject({ ok: true, value: { reqId: 2 } });
    expect(await accept().promise).toMatchObject({ ok: true, value: { reqId: 3 } });
    // waiting receives are served oldest first too
    const [x, y] = [accept(), accept()];
    recv(4);
    recv(5);
    expect(await x.promise).toMatchObject({ value: { reqId: 4 } });
    expect(await y.promise).toMatchObject({ value: { reqId: 5 } });
  });

  it("a request's data reach the receive; its frames are counted and checksummed on the way in", async () => {
    const { recv, accept, counters } = boot();
    const body = [bytes(3000, 1)];
    recv(20, 'WRITE /f 0 3000', body);
    const a = await accept().promise;
    expect(a).toMatchObject({ ok: true, value: { reqId: 20, request: 'WRITE /f 0 3000' } });
    expect((a as { ok: true; value: { body: Uint8Array[] } }).value.body).toBe(body);
    const line = 'WRITE /f 0 3000'.length;
    // 15 + 3000 bytes, mss 1460: 3 frames
    expect(counters.get('framesReceived')).toBe(3);
    expect(counters.get('bytesReceived')).toBe(line + 3000);
    expect(counters.get('rxBytesChecksummed')).toBe(line + 3000);
    // an empty body is no body
    recv(21, 'GET / HTTP/1.0', []);
    expect(await accept().promise).toEqual({ ok: true, value: { reqId: 21, request: 'GET / HTTP/1.0' } });
  });

  it('refuses a NET_RECV from a server, a malformed one, and a reqId already open (EINVAL)', async () => {
    const { send, open } = boot();
    expect(await send({ type: 'NET_RECV', reqId: 1, request: 'GET / HTTP/1.0' }, APP_1)).toMatchObject({ ok: false, errno: 'EINVAL' });
    const dev = (m: Record<string, unknown>) => send({ type: 'NET_RECV', ...m }, DEVICE_CALLER);
    expect(await dev({ reqId: 1, request: 42 })).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect(await dev({ reqId: 1, request: 'GET / HTTP/1.0', body: bytes(3) })).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect(await dev({ reqId: 1.5, request: 'GET / HTTP/1.0' })).toMatchObject({ ok: false, errno: 'EINVAL' });
    await open(3);
    expect(await dev({ reqId: 3, request: 'GET / HTTP/1.0' })).toMatchObject({ ok: false, errno: 'EINVAL' });
  });

  it('NET_CLOSE ends the waiting receives and the untaken requests with ESHUTDOWN; later ones get it at once', async () => {
    const { send, recv, accept, open } = boot();
    const held = await open(1); // taken: still answerable after the wire closed
    const [x, y] = [accept(), accept()];
    await flush();
    expect(await send({ type: 'NET_CLOSE' }, DEVICE_CALLER)).toEqual({ ok: true, value: { accepts: 2 } });
    expect(await x.promise).toMatchObject({ ok: false, errno: 'ESHUTDOWN' });
    expect(await y.promise).toMatchObject({ ok: false, errno: 'ESHUTDOWN' });
    expect(await accept().promise).toMatchObject({ ok: false, errno: 'ESHUTDOWN' });
    expect(await recv(2).promise).toMatchObject({ ok: false, errno: 'ESHUTDOWN' });
    expect(await send({ type: 'NET_SEND', reqId: 1, status: 200, body: [] })).toMatchObject({ ok: true });
    expect(await held.promise).toEqual({ ok: true, value: { status: 200 } });
  });

  it('NET_CLOSE with requests queued and no receive: they end with ESHUTDOWN', async () => {
    const { send, recv } = boot();
    const q = recv(1);
    expect(await send({ type: 'NET_CLOSE' }, DEVICE_CALLER)).toEqual({ ok: true, value: { accepts: 0 } });
    expect(await q.promise).toMatchObject({ ok: false, errno: 'ESHUTDOWN' });
  });

  it('an unknown message type is ENOSYS', async () => {
    const { send, counters } = boot();
    expect(await send({ type: 'NET_IOCTL' })).toMatchObject({ ok: false, errno: 'ENOSYS' });
    expect(counters.get('enosys')).toBe(1);
  });
});

describe('net: a client dies', () => {
  it('the requests it held are reset (ECONNRESET) and counted; what other incarnations hold is kept', async () => {
    const { srv, send, open, counters, device } = boot();
    const mine = await open(1, APP_1);
    const mine2 = await open(2, APP_1);
    const theirs = await open(3, APP_2);
    srv.clientDied(APP_1, false);
    expect(await mine.promise).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    expect(await mine2.promise).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    expect(counters.get('connectionsReset')).toBe(2);
    // the dead incarnation's late send is refused; the other's still goes out
    expect(await send({ type: 'NET_SEND', reqId: 1, status: 200, body: [] }, APP_1)).toMatchObject({ ok: false, errno: 'ECONNRESET' });
    expect(await send({ type: 'NET_SEND', reqId: 3, status: 200, body: [] }, APP_2)).toMatchObject({ ok: true });
    expect(await theirs.promise).toEqual({ ok: true, value: { status: 200 } });
    expect(device.sent.map((d) => d.reqId)).toEqual([3]);
  });

  it("its waiting receives go: the next request waits for the next incarnation's receive", async () => {
    const { srv, recv, accept } = boot();
    const dead = accept(APP_1);
    await flush();
    srv.clientDied(APP_1, false);
    const r = recv(7);
    await flush();
    expect(dead.settled).toBe(false); // its caller is gone: nobody waits for this reply
    const next = accept(APP_2);
    expect(await next.promise).toMatchObject({ ok: true, value: { reqId: 7 } });
    expect(r.settled).toBe(false);
  });

  it('for good (the supervisor gave up on it): queued and later requests are refused with ECONNREFUSED', async () => {
    const { srv, recv } = boot();
    const queued = recv(1);
    srv.clientDied(APP_1, true);
    expect(await queued.promise).toMatchObject({ ok: false, errno: 'ECONNREFUSED' });
    expect(await recv(2).promise).toMatchObject({ ok: false, errno: 'ECONNREFUSED' });
  });
});
