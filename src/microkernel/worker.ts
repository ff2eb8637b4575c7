/**
 * The body of every server worker: one protection domain holding one server.
 *
 * The kernel starts it with the server's name, its granted channel ends and the
 * kernel-owned memory it may use (disk image, counter slab, wire registers,
 * shared pools, a crash note); the control plane (boot, stats, running the wire
 * device) is comlink. The data path is the kernel's own IPC (ipc.ts).
 *
 * A handler that throws crashes this worker at once (fail-stop): the reason goes
 * into the crash note, which the kernel reads after the exit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Counters } from '../metrics/counters.js';
import type { ServerName } from '../protocol.js';
import { fail, heapBlocks, type BlockAllocator, type ServerContext, type ServerInstance } from '../servers/server.js';
import { bootByName, serverRng } from '../boot.js';
import { clientPlan, SimulatedWire, type WireResult } from '../wire/clients.js';
import { registersOver } from '../wire/registers.js';
import type { RunPlan } from '../kernel.js';
import { Endpoint } from './ipc.js';
import { PoolBlocks, PoolMapping } from './pool.js';
import { Pump } from './ring.js';
import { openChannel } from './batch.js';
import { codecFor, keptBuffers, release, type Held } from './transport.js';
import type { WorkerBoot } from './kernel.js';

export interface WorkerControl {
  /** Mount, initialise, and open the granted channels; resolves when ready. */
  boot(): void;
  /** Run the wire's clients against this (net) server. */
  run(plan: RunPlan): Promise<WireResult>;
  stats(): { pendingCalls: number; heapUsedBytes: number };
}

const data = workerData as WorkerBoot;
const counters = new Counters(data.counters);
const wire = new SimulatedWire(registersOver(data.regs));
const endpoints = new Map<ServerName, Endpoint>();
const pools = data.pools.map((m) => new PoolMapping(m));
let server: ServerInstance | null = null;

/** The server crashed: leave the reason in the crash note and stop this domain now. */
function crash(err: unknown): never {
  const text = new TextEncoder().encode(err instanceof Error ? err.message : String(err)).subarray(0, data.crashNote.byteLength - 4);
  new Uint8Array(data.crashNote, 4).set(text);
  Atomics.store(new Int32Array(data.crashNote), 0, text.length);
  process.exit(1);
}

/** The cache's allocator for this kernel's transport: kept blocks, or pool slots for the disk. */
function cacheBlocks(): BlockAllocator {
  switch (data.cfg.transport) {
    case 'copy':
      return heapBlocks;
    case 'transfer':
      return {
        alloc(bytes) {
          const b = new Uint8Array(bytes);
          keptBuffers.add(b.buffer);
          return b;
        },
        free() {},
      };
    case 'shared':
      return data.name === 'disk' && pools[0] ? new PoolBlocks(pools[0]) : heapBlocks;
  }
}

const codec = codecFor(data.cfg.transport, pools);
const blocks = cacheBlocks();

const base: ServerContext = {
  name: data.name,
  blocks,
  counters,
  rng: serverRng(data.name, data.machine.seed),
  call: () => {
    throw new Error('call outside an invocation');
  },
};

/** A context for one invocation: its calls pin what their replies map into `held`. */
function invocation(held: Held): ServerContext {
  return {
    ...base,
    call: ((to: ServerName, msg: { type: string }) => {
      const ep = endpoints.get(to);
      return ep ? ep.call(msg, held) : Promise.resolve(fail('ECALLDENIED', `${data.name} -> ${to}`));
    }) as ServerContext['call'],
  };
}

const control: WorkerControl = {
  boot() {
    server = bootByName(data.name, data.cfg, { machine: data.machine, device: wire }, base);
    const srv = server;
    const pump = data.cfg.signal === 'ring' ? new Pump(data.bell, data.cfg.spinUs) : null;
    for (const ch of data.channels) {
      const port = openChannel(data.cfg.signal, ch.port, pump && ch.rings ? { rings: ch.rings, pump, counters } : null);
      endpoints.set(
        ch.peer,
        new Endpoint(port, {
          counters,
          codec,
          deadlineMs: data.cfg.callTimeoutMs,
          onCall: ch.peerMayCall ? (m, held) => srv.dispatch(m, invocation(held)) : null,
          onCrash: crash,
          label: `${data.name}<->${ch.peer}`,
        }),
      );
    }
  },

  async run(plan) {
    const srv = server;
    if (!srv || data.name !== 'net') throw new Error(`run: ${data.name} holds no wire device`);
    return wire.run(clientPlan(plan), async (msg) => {
      const held: Held = [];
      try {
        return (await srv.dispatch(msg, invocation(held))) as never;
      } catch (e) {
        return crash(e);
      } finally {
        release(held);
      }
    });
  },

  stats() {
    let pendingCalls = 0;
    for (const ep of endpoints.values()) pendingCalls += ep.pendingCalls;
    return { pendingCalls, heapUsedBytes: process.memoryUsage().heapUsed };
  },
};

Comlink.expose(control, nodeEndpoint(parentPort!));
