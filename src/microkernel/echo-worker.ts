/**
 * The peer of `microlith bench ipc`: a domain with one channel that answers
 * IPC_ECHO with the payload it got, and IPC_SINK with the number of bytes. It
 * uses the kernel's own IPC (Endpoint, codecs, rings) and nothing else.
 */
import type { MessagePort } from 'node:worker_threads';
import { domainBoot } from '../harness/domain.js';
import { Counters } from '../metrics/counters.js';
import type { Signal, Transport } from '../config.js';
import { Endpoint } from './ipc.js';
import { PoolMapping, type PoolMemory } from './pool.js';
import { Pump, type Doorbell, type RingMemory } from './ring.js';
import { codecFor } from './transport.js';
import { openChannel } from './batch.js';

export interface EchoBoot {
  port: MessagePort;
  counters: SharedArrayBuffer;
  transport: Transport;
  signal: Signal;
  spinUs: number;
  pool: PoolMemory | null;
  rings: { tx: RingMemory; rx: RingMemory; peerBell: Doorbell; bell: Doorbell } | null;
}

const data = domainBoot<EchoBoot>();
const counters = new Counters(data.counters);
const pump = data.rings ? new Pump(data.rings.bell, data.spinUs) : null;
const port = openChannel(data.signal, data.port, pump && data.rings ? { rings: data.rings, pump, counters } : null);

new Endpoint(port, {
  counters,
  codec: codecFor(data.transport, data.pool ? [new PoolMapping(data.pool)] : []),
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
// with ring signalling the pump polls; the port keeps this worker alive until the bench closes it
