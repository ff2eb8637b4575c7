/**
 * The net server in-process: `cutFrames`, and the NET_SEND / NET_RECV handlers
 * called through `bootServer(net, ...)` with a fake NetDevice and a hand-made
 * ServerContext.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { Counters } from '../src/metrics/counters.js';
import type { Reply } from '../src/protocol.js';
import { inetChecksum } from '../src/servers/inet-checksum.js';
import { FRAME_HEADER_BYTES, cutFrames, net, type Frame, type NetDevice } from '../src/servers/net.js';
import { bootServer, ok, type ServerContext } from '../src/servers/server.js';
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

function boot(opts: { mtu?: number; checksumOffload?: boolean; call?: ServerContext['call'] } = {}) {
  const counters = new Counters();
  const device = new FakeDevice();
  const call =
    opts.call ??
    (vi.fn(() => {
      throw new Error('NET_SEND must not call other servers');
    }) as unknown as ServerContext['call']);
  const ctx = serverContext('net', counters, call);
  const srv = bootServer(net, { mtu: opts.mtu ?? 1500, checksumOffload: opts.checksumOffload ?? false, device }, ctx);
  const send = (msg: { type: string; [k: string]: unknown }) => srv.dispatch(msg) as Reply<any> | Promise<Reply<any>>;
  return { counters, device, send };
}

describe('net: NET_SEND', () => {
  it('hands the frames to the device with reqId and status, and replies frames + wireBytes', async () => {
    const { send, device } = boot();
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
    const { send, device } = boot({ mtu: 576 }); // mss 536, frames start at odd offsets inside slices
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
    const { send, device, counters } = boot();
    expect(await send({ type: 'NET_SEND', reqId: 2, status: 404, body: [] })).toEqual({
      ok: true,
      value: { frames: 1, wireBytes: 40 },
    });
    expect(device.sent[0].frames).toEqual([{ checksum: 0xffff, segments: [], length: 0 }]);
    expect(counters.get('framesSent')).toBe(1);
    expect(counters.get('payloadBytes')).toBe(0);
    expect(counters.get('wireBytes')).toBe(40);
  });

  it('counts framesSent, payloadBytes, wireBytes and bytesChecksummed exactly, across sends', async () => {
    const { send, counters } = boot();
    await send({ type: 'NET_SEND', reqId: 1, status: 200, body: [bytes(20), bytes(3000)] }); // 3 frames, 3020 B
    await send({ type: 'NET_SEND', reqId: 2, status: 200, body: [bytes(1460)] }); // 1 frame, 1460 B
    await send({ type: 'NET_SEND', reqId: 3, status: 200, body: [] }); // 1 frame, 0 B
    expect(counters.get('framesSent')).toBe(5);
    expect(counters.get('payloadBytes')).toBe(4480);
    expect(counters.get('wireBytes')).toBe(4480 + 5 * 40);
    expect(counters.get('bytesChecksummed')).toBe(4480);
    expect(counters.get('messagesHandled')).toBe(3);
  });

  it('with checksum offload, checksums are null and nothing is checksummed in software', async () => {
    const { send, counters, device } = boot({ checksumOffload: true });
    const r = await send({ type: 'NET_SEND', reqId: 1, status: 200, body: [bytes(20), bytes(3000)] });
    expect(r).toEqual({ ok: true, value: { frames: 3, wireBytes: 3140 } });
    expect(device.sent[0].frames.map((f) => f.checksum)).toEqual([null, null, null]);
    expect(counters.get('bytesChecksummed')).toBe(0);
    expect(counters.get('framesSent')).toBe(3);
    expect(counters.get('payloadBytes')).toBe(3020);
    expect(counters.get('wireBytes')).toBe(3140);
  });

  it('frames carry views of the body (no copy on the way to the device)', async () => {
    const { send, device } = boot();
    const block = bytes(4096);
    await send({ type: 'NET_SEND', reqId: 1, status: 200, body: [block] });
    for (const f of device.sent[0].frames) for (const s of f.segments) expect(s.buffer).toBe(block.buffer);
  });

  it('a malformed body is EINVAL: nothing sent, nothing counted', async () => {
    const { send, counters, device } = boot();
    const bad: unknown[] = [undefined, null, 'abc', 42, new Uint8Array(4), [1, 2, 3], [bytes(3), 'x'], [new DataView(new ArrayBuffer(2))], { length: 1, 0: bytes(1) }];
    for (const body of bad) {
      expect(await send({ type: 'NET_SEND', reqId: 1, status: 200, body })).toMatchObject({ ok: false, errno: 'EINVAL' });
    }
    expect(device.sent).toHaveLength(0);
    expect(counters.get('framesSent') + counters.get('payloadBytes') + counters.get('wireBytes')).toBe(0);
    expect(counters.get('bytesChecksummed')).toBe(0);
  });

  it('init refuses an MTU that leaves no payload or exceeds 65535', () => {
    for (const mtu of [40, 0, -1, 65536, 1500.5]) expect(() => boot({ mtu })).toThrow(RangeError);
    expect(() => boot({ mtu: 41 })).not.toThrow();
  });
});

describe('net: NET_RECV', () => {
  it('forwards the request to the app with APP_REQUEST and answers with its status', async () => {
    const call = vi.fn(async () => ok({ status: 404, bodyBytes: 0 }));
    const { send, device } = boot({ call: call as unknown as ServerContext['call'] });
    const r = await send({ type: 'NET_RECV', reqId: 12, request: 'GET /x HTTP/1.0' });
    expect(r).toEqual({ ok: true, value: { status: 404 } });
    expect(call).toHaveBeenCalledTimes(1);
    expect(call).toHaveBeenCalledWith('app', { type: 'APP_REQUEST', reqId: 12, request: 'GET /x HTTP/1.0' });
    expect(device.sent).toHaveLength(0); // the app sends the response, not NET_RECV
  });

  it("passes the app's failure back unchanged", async () => {
    const failure = { ok: false as const, errno: 'EPEERDIED' as const, detail: 'app' };
    const call = vi.fn(async () => failure);
    const { send } = boot({ call: call as unknown as ServerContext['call'] });
    expect(await send({ type: 'NET_RECV', reqId: 1, request: 'GET / HTTP/1.0' })).toEqual(failure);
  });

  it('an unknown message type is ENOSYS', async () => {
    const { send, counters } = boot();
    expect(await send({ type: 'NET_IOCTL' })).toMatchObject({ ok: false, errno: 'ENOSYS' });
    expect(counters.get('enosys')).toBe(1);
  });
});
