/**
 * The echo server of `microlith bench ipc`, on one channel end: IPC_ECHO is
 * answered with the payload it carried, IPC_SINK with its byte count. It uses the
 * kernel's own IPC (Endpoint, codecs, rings) and nothing else. It runs in the echo
 * domain (echo-worker.ts), or with `--in-thread` in the bench's own thread.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Signal, Transport } from '../config.js';
import { Counters } from '../metrics/counters.js';
import { openChannel } from './batch.js';
import { Endpoint } from './ipc.js';
import { PoolMapping, type PoolMemory } from './pool.js';
import { Pump, type Doorbell, type RingMemory } from './ring.js';
import { codecFor } from './transport.js';

/** What the echo's side of the pair is given: its channel end, counters, transport, signalling, pool and rings. */
export interface EchoBoot {
  port: MessagePort;
  counters: SharedArrayBuffer;
  transport: Transport;
  signal: Signal;
  spinUs: number;
  pool: PoolMemory | null;
  rings: { tx: RingMemory; rx: RingMemory; peerBell: Doorbell; bell: Doorbell } | null;
}

/** Serve the echo on `boot`'s channel end, in this thread: its pump (ring signalling), channel and Endpoint. */
export function serveEcho(boot: EchoBoot): { close(): void } {
  const counters = new Counters(boot.counters);
  const pump = boot.rings ? new Pump(boot.rings.bell, boot.spinUs) : null;
  const port = openChannel(boot.signal, boot.port, pump && boot.rings ? { rings: boot.rings, pump, counters } : null);
  const ep = new Endpoint(port, {
    counters,
    codec: codecFor(boot.transport, boot.pool ? [new PoolMapping(boot.pool)] : []),
    deadlineMs: 60_000,
    onCall: (m) => {
      const data = (m as { data?: Uint8Array[] }).data ?? [];
      if (m.type === 'IPC_ECHO') return { ok: true, value: { data } };
      return { ok: true, value: { bytes: data.reduce((n, s) => n + s.length, 0) } };
    },
    onCrash: (e) => {
      throw e;
    },
    label: 'bench<->echo',
  });
  return {
    close() {
      ep.close();
      pump?.stop();
    },
  };
}
