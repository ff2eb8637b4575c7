/**
 * The harness's handle on a monolithic kernel running in its own thread
 * (monolithic-host.ts): boot, run with heartbeats, counters read from shared
 * slabs, shutdown. A hang anywhere in the kernel is a hang of the whole domain;
 * it is reported against the server the kernel was last running.
 */
import type { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { KernelConfig } from '../config.js';
import type { Machine } from '../boot.js';
import type { FaultRecord, Kernel, KernelRunResult, RunPlan } from '../kernel.js';
import { COUNTER_SLAB_BYTES, readCounters, type CounterValues } from '../metrics/counters.js';
import { SERVER_NAMES, type ServerName } from '../protocol.js';
import { requestStop, type Registers } from '../wire/registers.js';
import { watchHeartbeats } from './heartbeat.js';
import type { MonolithicBoot, MonolithicControl } from './monolithic-host.js';
import { startWorker } from './spawn.js';

export class MonolithicDomain implements Kernel {
  private readonly worker: Worker;
  private readonly ctl: Comlink.Remote<MonolithicControl>;
  private readonly exited: Promise<number>;
  private readonly slabs: Record<ServerName, SharedArrayBuffer>;
  private readonly running = new Int32Array(new SharedArrayBuffer(4));
  private gone = false;
  private error: string | null = null;

  constructor(
    private readonly cfg: KernelConfig,
    machine: Machine,
    private readonly regs: Registers,
  ) {
    this.slabs = Object.fromEntries(SERVER_NAMES.map((n) => [n, new SharedArrayBuffer(COUNTER_SLAB_BYTES)])) as Record<
      ServerName,
      SharedArrayBuffer
    >;
    const boot: MonolithicBoot = {
      cfg,
      machine,
      regs: regs.buffer as SharedArrayBuffer,
      slabs: this.slabs,
      running: this.running.buffer as SharedArrayBuffer,
    };
    this.worker = startWorker('harness/monolithic-host', { workerData: boot, name: 'microlith-monolith' });
    this.worker.on('error', (e) => (this.error = e instanceof Error ? e.message : String(e)));
    this.exited = new Promise((res) => this.worker.once('exit', res));
    this.exited.then(() => (this.gone = true));
    this.ctl = Comlink.wrap<MonolithicControl>(nodeEndpoint(this.worker));
  }

  /** Resolves when the kernel's thread is up, or rejects if it could not start. */
  async boot(): Promise<this> {
    const up = await Promise.race([this.ctl.ping(), this.exited.then(() => false as const)]);
    if (up !== true) throw new Error(`the monolithic kernel did not start: ${this.error ?? 'its thread exited'}`);
    return this;
  }

  private lastServer(): ServerName {
    return SERVER_NAMES[Atomics.load(this.running, 0)] ?? 'net';
  }

  async run(plan: RunPlan): Promise<KernelRunResult> {
    let hung: FaultRecord | null = null;
    let onHang!: () => void;
    const hang = new Promise<null>((res) => (onHang = () => res(null)));
    const stop = watchHeartbeats([{ name: 'kernel', ping: () => this.ctl.ping(), gone: () => this.gone }], this.cfg.hangTimeoutMs, (_n, ms) => {
      const server = this.lastServer();
      hung = { server, kind: 'hang', message: `the kernel answered no heartbeat for ${Math.round(ms)} ms, last running ${server}` };
      requestStop(this.regs);
      onHang();
    });
    const died = this.exited.then(() => null);
    const result = await Promise.race([this.ctl.run(plan), hang, died]);
    stop();
    if (result) return result;
    const faults: FaultRecord[] = hung
      ? [hung]
      : [{ server: this.lastServer(), kind: 'crash', message: `the kernel's thread died: ${this.error ?? 'exited'}` }];
    return { wire: null, faults, domains: [{ name: 'kernel', servers: [...SERVER_NAMES], utilisation: 0 }] };
  }

  counters(): Record<ServerName, CounterValues> {
    return Object.fromEntries(SERVER_NAMES.map((n) => [n, readCounters(new Float64Array(this.slabs[n]))])) as Record<
      ServerName,
      CounterValues
    >;
  }

  async shutdown(): Promise<void> {
    this.ctl[Comlink.releaseProxy]();
    await this.worker.terminate();
    await this.exited;
  }
}
