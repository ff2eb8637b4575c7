/**
 * The body of every server worker: one protection domain holding one server.
 *
 * The kernel starts it with the server's name, its granted channel ends and the
 * kernel-owned memory it may use (disk image, counter slab, wire registers); the
 * control plane (boot, stats, running the wire device) is comlink. The data path
 * is the kernel's own IPC (ipc.ts). A handler that throws crashes this worker,
 * which is exactly the fault the kernel isolates.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Counters } from '../metrics/counters.js';
import type { Msg, ServerName } from '../protocol.js';
import { fail, type ServerContext, type ServerInstance } from '../servers/server.js';
import { bootByName, serverRng } from '../boot.js';
import { SimulatedWire, type WireResult } from '../wire/clients.js';
import { RequestStream } from '../workload/generate.js';
import type { RunPlan } from '../kernel.js';
import { Endpoint } from './ipc.js';
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
const regs = new Int32Array(data.regs);
const wire = new SimulatedWire(regs);
const endpoints = new Map<ServerName, Endpoint>();
let server: ServerInstance | null = null;

/** The server crashed: rethrow outside any handler so the worker dies with the error. */
function crash(err: unknown): never {
  process.nextTick(() => {
    throw err;
  });
  throw err;
}

const ctx: ServerContext = {
  name: data.name,
  counters,
  rng: serverRng(data.name, data.seed),
  call: ((to: ServerName, msg: { type: string }) => {
    const ep = endpoints.get(to);
    return ep ? ep.call(msg) : Promise.resolve(fail('ECALLDENIED', `${data.name} -> ${to}`));
  }) as ServerContext['call'],
};

const control: WorkerControl = {
  boot() {
    server = bootByName(data.name, data.cfg, { image: data.image, device: wire }, ctx);
    const srv = server;
    for (const ch of data.channels) {
      const label = `${data.name}<->${ch.peer}`;
      endpoints.set(
        ch.peer,
        new Endpoint(ch.port, {
          counters,
          deadlineMs: data.cfg.callTimeoutMs,
          onCall: ch.peerMayCall ? (m) => srv.dispatch(m) : null,
          onCrash: crash,
          label,
        }),
      );
    }
  },

  async run(plan) {
    const srv = server;
    if (!srv || data.name !== 'net') throw new Error(`run: ${data.name} holds no wire device`);
    const stream = new RequestStream(plan.workload);
    return wire.run({ requests: plan.requests, clients: plan.clients, next: () => stream.next() }, (reqId, request) => {
      const msg: Msg<'net', 'NET_RECV'> = { type: 'NET_RECV', reqId, request };
      try {
        return Promise.resolve(srv.dispatch(msg) as never).catch(crash);
      } catch (e) {
        return crash(e);
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
