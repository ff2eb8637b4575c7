/**
 * The bench's pure parts: `--check`'s verdicts against a reference (bench/check.ts),
 * and the monolith's limit loop (bench/limit.ts) on tiny inputs, whose
 * checksums and hashes must be what the net server and the NIC compute for the
 * same bytes. No timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { mismatch, ratiosOf, verdicts, type ScenarioRatios } from '../bench/check.js';
import { buildLimitInput, limitLoop, responseOf } from '../bench/limit.js';
import { Counters } from '../src/metrics/counters.js';
import type { Reply } from '../src/protocol.js';
import { httpHead } from '../src/servers/app.js';
import { BLOCK_SIZE, mkfs, mount } from '../src/servers/fs.js';
import { DEVICE_CALLER, FRAME_HEADER_BYTES, net, type Frame, type NetDevice } from '../src/servers/net.js';
import { bootServer } from '../src/servers/server.js';
import { responseHash } from '../src/wire/link.js';
import { SimulatedWire } from '../src/wire/clients.js';
import { newRegisters, readDigest } from '../src/wire/registers.js';
import { fileSet } from '../src/workload/generate.js';
import { parseWorkload } from '../src/workload/load.js';
import { bytes, concat } from './support/bytes.js';
import { serverContext } from './support/contexts.js';

const scenario = (ratios: Record<string, [number, number, number]>, over: Partial<ScenarioRatios> = {}): ScenarioRatios => ({
  scenario: 'specweb96',
  workload: 'specweb96',
  requests: 20_000,
  clients: 64,
  rounds: 5,
  baseline: 'monolithic',
  ratios: Object.fromEntries(Object.entries(ratios).map(([l, [median, min, max]]) => [l, { median, min, max }])),
  ...over,
});

describe('--check: verdicts', () => {
  const ref = [scenario({ monolithic: [1, 1, 1], 'microkernel:copy': [0.5, 0.48, 0.52], 'microkernel:shared': [0.5, 0.3, 0.7] })];

  it('a fall within 5% is ok, beyond it a regression (tight rounds: the floor decides)', () => {
    const v = (median: number) => verdicts(ref, [scenario({ monolithic: [1, 1, 1], 'microkernel:copy': [median, median - 0.01, median + 0.01] })]);
    expect(v(0.48)[1]).toMatchObject({ label: 'microkernel:copy', verdict: 'ok', allowed: 0.05 });
    expect(v(0.47)[1]).toMatchObject({ verdict: 'regression' });
    expect(v(0.47)[1].change).toBeCloseTo(-0.06, 10);
    // a rise is never a regression
    expect(v(0.9)[1].verdict).toBe('ok');
  });

  it("the allowed noise is the larger half-range of the two runs' ratios, as a fraction of the reference's median", () => {
    // reference half-range 0.2 of 0.5: 40% allowed
    const within = verdicts(ref, [scenario({ 'microkernel:shared': [0.31, 0.3, 0.32] })])[0];
    expect(within.allowed).toBeCloseTo(0.4, 10);
    expect(within.verdict).toBe('ok');
    expect(verdicts(ref, [scenario({ 'microkernel:shared': [0.29, 0.28, 0.3] })])[0].verdict).toBe('regression');
    // the new run's own spread counts too: half-range 0.1 of a reference median of 0.5
    const noisy = verdicts(ref, [scenario({ 'microkernel:copy': [0.44, 0.34, 0.54] })])[0];
    expect(noisy.allowed).toBeCloseTo(0.2, 10);
    expect(noisy.verdict).toBe('ok');
  });

  it('the floor can be raised; the baseline and labels the reference has not are reported, never a regression', () => {
    expect(verdicts(ref, [scenario({ 'microkernel:copy': [0.3, 0.3, 0.3] })], 0.5)[0].verdict).toBe('ok');
    const vs = verdicts(ref, [scenario({ monolithic: [1, 1, 1], 'microkernel:transfer': [0.1, 0.1, 0.1] })]);
    expect(vs.map((v) => v.verdict)).toEqual(['baseline', 'no reference']);
  });

  it('a reference of another scenario, request count or client count is refused in one line; a reference with more scenarios is not', () => {
    const both = [scenario({}), scenario({}, { scenario: 'large-1mib', requests: 1500, clients: 16 })];
    expect(mismatch(both, [{ scenario: 'specweb96', requests: 20_000, clients: 64 }], 'ref.json')).toBeNull();
    expect(mismatch(both, [{ scenario: 'specweb96', requests: 5000, clients: 64 }], 'ref.json')).toMatch(/^ref\.json: specweb96 ran 20000 requests there, 5000 here: [^\n]+$/);
    expect(mismatch(both, [{ scenario: 'large-1mib', requests: 1500, clients: 8 }], 'ref.json')).toMatch(/16 clients there, 8 here/);
    expect(mismatch([both[0]], [{ scenario: 'large-1mib', requests: 1500, clients: 16 }], 'ref.json')).toMatch(/has no large-1mib scenario/);
  });

  it('reads the ratios of a results file as the bench writes it, and refuses another kind', () => {
    const file = {
      kind: 'throughput',
      results: [
        {
          scenario: 'specweb96',
          comparison: {
            baseline: 'monolithic',
            rounds: 3,
            workload: { name: 'specweb96', requests: 100, clients: 64 },
            results: [
              { label: 'monolithic', ratio: { median: 1, min: 1, max: 1, mean: 1 } },
              { label: 'microkernel:shared', ratio: { median: 0.4, min: 0.3, max: 0.5, mean: 0.4 } },
            ],
          },
        },
      ],
    };
    expect(ratiosOf(file, 'f.json')).toEqual([
      {
        scenario: 'specweb96',
        workload: 'specweb96',
        requests: 100,
        clients: 64,
        rounds: 3,
        baseline: 'monolithic',
        ratios: { monolithic: { median: 1, min: 1, max: 1 }, 'microkernel:shared': { median: 0.4, min: 0.3, max: 0.5 } },
      },
    ]);
    expect(() => ratiosOf({ ...file, kind: 'recovery' }, 'f.json')).toThrow(/^f\.json: a result of kind "recovery", not throughput/);
    expect(() => ratiosOf([], 'f.json')).toThrow(/not a bench results file/);
  });
});

class FakeDevice implements NetDevice {
  readonly sent: { reqId: number; status: number; frames: Frame[] }[] = [];
  transmit(reqId: number, status: number, frames: Frame[]): void {
    this.sent.push({ reqId, status, frames });
  }
}

/** The frames the net server puts on the wire for `body` (as request `reqId`, status `status`), with their checksums. */
async function netServerFrames(body: Uint8Array[], mtu: number, reqId: number, status: number): Promise<Frame[]> {
  const device = new FakeDevice();
  const ctx = serverContext('net', new Counters(), () => {
    throw new Error('net calls no one');
  });
  const srv = bootServer(net, { mtu, checksumOffload: false, device }, ctx);
  const send = (msg: { type: string; [k: string]: unknown }, caller = ctx.caller) =>
    Promise.resolve(srv.dispatch(msg, caller ? { ...ctx, caller } : ctx) as Reply<unknown> | Promise<Reply<unknown>>);
  void send({ type: 'NET_RECV', reqId, request: 'GET / HTTP/1.0' }, DEVICE_CALLER);
  expect(await send({ type: 'NET_ACCEPT' })).toMatchObject({ ok: true });
  expect(await send({ type: 'NET_SEND', reqId, status, body })).toMatchObject({ ok: true });
  return device.sent[0].frames;
}

describe("the monolith's limit loop", () => {
  it("each frame's checksum is the net server's, and each response's hash the NIC's, for the same bytes", async () => {
    const mtu = 576; // frames cut slices at odd offsets
    const bodies = [[bytes(37), bytes(4096, 3), bytes(999, 11)], [bytes(1)], []];
    const responses = bodies.map((b) => responseOf(200, b, mtu - FRAME_HEADER_BYTES));
    // requests 0..4 get responses 0, 1, 0, 2, 1
    const sequence = Uint32Array.from([0, 1, 0, 2, 1]);
    const result = limitLoop({ responses, sequence, checksumOffload: false });

    const regs = newRegisters(0);
    const wire = new SimulatedWire(regs);
    for (const [id, at] of sequence.entries()) {
      const theirs = await netServerFrames(bodies[at], mtu, id, 200);
      expect(responses[at].frames.map((f) => f.checksum)).toEqual(theirs.map((f) => f.checksum));
      // the clients fold each response's hash into the run's digest (a private step of theirs)
      (wire as unknown as { fold(h: number): void }).fold(responseHash(id, 200, theirs));
    }
    expect(result.digest).toBe(readDigest(regs));
    const payload = bodies.map((b) => b.reduce((n, s) => n + s.length, 0));
    const total = [...sequence].reduce((n, at) => n + payload[at], 0);
    expect(result).toMatchObject({ requests: 5, bytesChecksummed: total, bytesHashed: total });
  });

  it('with checksum offload it only hashes', () => {
    const responses = [responseOf(200, [bytes(3000)], 1460)];
    const r = limitLoop({ responses, sequence: Uint32Array.from([0, 0]), checksumOffload: true });
    expect(r.bytesChecksummed).toBe(0);
    expect(r.bytesHashed).toBe(6000);
    expect(responses[0].frames.every((f) => f.checksum === null)).toBe(true);
  });

  it("builds each request's response as the app and disk serve it: the HTTP head, then the file's bytes off the image", () => {
    const workload = parseWorkload(
      JSON.stringify({
        name: 'tiny',
        seed: 5,
        requests: 12,
        clients: 2,
        fileSet: { directories: 2, classes: [{ name: 'c', weight: 1, sizes: [10, 5000, 9000] }] },
        popularity: { kind: 'zipf', exponent: 1 },
        services: [{ protocol: 'http', weight: 1 }],
      }),
      'tiny.json',
    );
    const input = buildLimitInput({ workload });
    expect(input.sequence).toHaveLength(12);
    const image = mkfs(fileSet(workload), workload.seed);
    const files = mount(image).inodes;
    for (const r of input.responses) {
      const got = concat(r.frames.flatMap((f) => f.segments));
      expect(r.frames.every((f) => f.length <= 1500 - FRAME_HEADER_BYTES)).toBe(true);
      // which file: the one whose head and bytes these are
      const match = files.find((ip) => {
        const head = new TextEncoder().encode(httpHead('1.0', 200, 'application/octet-stream', ip.size));
        const file = new Uint8Array(image, ip.startBlock * BLOCK_SIZE, ip.size);
        return got.length === head.length + ip.size && Buffer.from(got).equals(Buffer.from(concat([head, file])));
      });
      expect(match, `a response of ${got.length} bytes is one file's`).toBeDefined();
      expect(r.bytes).toBe(got.length);
    }
  });
});
