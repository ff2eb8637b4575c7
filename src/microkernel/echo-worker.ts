/**
 * The peer of `microlith bench ipc`: a domain with one channel end, served by
 * the echo server (echo.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import { domainBoot } from '../harness/domain.js';
import { Counters } from '../metrics/counters.js';
import type { Signal, Transport } from '../config.js';
import { echoEndpoint } from './echo.js';
import type { PoolMemory } from './pool.js';
import { Pump, type Doorbell, type RingMemory } from './ring.js';
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

echoEndpoint(port, counters, data.transport, data.pool);
// with ring signalling the pump polls; the port keeps this worker alive until the bench closes it
