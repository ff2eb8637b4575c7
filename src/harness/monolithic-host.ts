/**
 * The thread the monolithic kernel runs in. The kernel is one domain; running it
 * off the harness's thread keeps the harness outside its fault domain: if a
 * server hangs the kernel, the harness notices the missed heartbeats, reads the
 * counters and registers it shares with the kernel, and ends the run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { MonolithicKernel } from '../monolithic/kernel.js';
import type { KernelConfig } from '../config.js';
import type { Machine } from '../boot.js';
import type { KernelRunResult, RunPlan } from '../kernel.js';
import type { ServerName } from '../protocol.js';
import { registersOver } from '../wire/registers.js';

export interface MonolithicBoot {
  cfg: KernelConfig;
  machine: Machine;
  regs: SharedArrayBuffer;
  slabs: Record<ServerName, SharedArrayBuffer>;
  running: SharedArrayBuffer;
}

export interface MonolithicControl {
  ping(): true;
  run(plan: RunPlan): Promise<KernelRunResult>;
}

const data = workerData as MonolithicBoot;
const kernel = new MonolithicKernel(data.cfg, data.machine, registersOver(data.regs), {
  slabs: data.slabs,
  running: new Int32Array(data.running),
});

const control: MonolithicControl = {
  ping: () => true,
  run: (plan) => kernel.run(plan),
};
Comlink.expose(control, nodeEndpoint(parentPort!));
