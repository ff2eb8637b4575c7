/**
 * `bench ipc --in-thread`: the echo served in the bench's own thread, by the same
 * IPC code as the echo domain. It starts no thread, and what it counts is what the
 * domain counts: only the placement changes, and only host time may differ.
 */
import { describe, expect, it } from 'vitest';
import { benchIpc, warmUpMs, type IpcBenchOptions } from '../src/microkernel/bench-ipc.js';
import { trackResources } from './support/leaks.js';

const { created } = trackResources<'WORKER'>(['WORKER']);
const OPTS: IpcBenchOptions = { transports: ['copy', 'transfer', 'shared'], signals: ['message', 'batch', 'ring'], sizes: [64, 8192], spinUs: 0, depth: 8, effort: 0.02 };

describe('bench ipc, in this thread and across a domain', () => {
  it('--in-thread starts no worker thread; the domain run starts one per pair; both count the same copies for every transport, signalling and size', { timeout: 120_000 }, async () => {
    const before = created.length;
    const here = await benchIpc({ ...OPTS, inThread: true });
    expect(created.length - before).toBe(0);
    const there = await benchIpc(OPTS);
    // every transport × signalling pair but transfer with ring, at each size
    expect(here).toHaveLength(8 * 2);
    expect(created.length - before).toBe(8);
    expect(here.map((r) => [r.transport, r.signal, r.sizeBytes])).toEqual(there.map((r) => [r.transport, r.signal, r.sizeBytes]));
    for (const [i, r] of here.entries()) {
      const name = `${r.transport}:${r.signal} ${r.sizeBytes} B`;
      expect(r.inThread, name).toBe(true);
      expect(there[i].inThread, name).toBe(false);
      expect(r.bytesCopiedPerRoundTrip, name).toBe(there[i].bytesCopiedPerRoundTrip);
      expect(r.roundTripUs.median, name).toBeGreaterThan(0);
      expect(r.pipelinedRoundTripUs, name).toBeGreaterThan(0);
    }
    // the copy transport copies the payload each way, wherever the echo runs
    expect(here.find((r) => r.transport === 'copy' && r.signal === 'message' && r.sizeBytes === 8192)!.bytesCopiedPerRoundTrip).toBeGreaterThanOrEqual(2 * 8192);
  });
});

describe('the warm-up of each pair', () => {
  it('is 250 ms from an effort of 0.2 up, in proportion below it, and at least 25 ms', () => {
    expect([1, 0.2, 0.1, 0.02, 0.001].map(warmUpMs)).toEqual([250, 250, 125, 25, 25]);
  });
});
