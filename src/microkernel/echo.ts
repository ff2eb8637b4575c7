/**
 * The echo server of `microlith bench ipc`, on one channel end: IPC_ECHO is
 * answered with the payload it carried, IPC_SINK with its byte count. It uses the
 * kernel's own IPC (Endpoint, codecs, rings) and nothing else. It runs in the echo
 * domain (echo-worker.ts), or with `--in-thread` in the bench's own thread.
 */
import type { Transport } from '../config.js';
import type { Counters } from '../metrics/counters.js';
import { Endpoint, type PortLike } from './ipc.js';
import { PoolMapping, type PoolMemory } from './pool.js';
import { codecFor } from './transport.js';

export function echoEndpoint(port: PortLike, counters: Counters, transport: Transport, pool: PoolMemory | null): Endpoint {
  return new Endpoint(port, {
    counters,
    codec: codecFor(transport, pool ? [new PoolMapping(pool)] : []),
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
}
