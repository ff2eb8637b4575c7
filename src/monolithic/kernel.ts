/**
 * The monolithic kernel: every server in one domain (this thread). A call is a
 * direct dispatch to the callee's handler and a payload is passed by reference,
 * so a file's bytes go from the buffer cache to the wire without a copy.
 *
 * A server that throws is a kernel panic: the whole system stops, the requests
 * in flight end as `info`, and the fault is reported.
 */
import { Counters } from '../metrics/counters.js';
import { DEFAULT_GRANTS, SERVER_NAMES, type ServerName } from '../protocol.js';
import { fail, heapBlocks, type ServerContext, type ServerInstance } from '../servers/server.js';
import { bootByName, serverRng, type Machine } from '../boot.js';
import type { KernelConfig } from '../config.js';
import type { FaultRecord, Kernel, KernelRunResult, RunPlan } from '../kernel.js';
import { clientPlan, SimulatedWire } from '../wire/clients.js';
import { requestStop, type Registers } from '../wire/registers.js';

export class KernelPanic extends Error {
  constructor(readonly server: ServerName, cause: unknown) {
    super(`kernel panic in ${server}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'KernelPanic';
  }
}

/**
 * Memory the harness may give the kernel so that it can still read it if the
 * kernel's thread hangs: a counter slab per server, and a register holding the
 * index (in SERVER_NAMES) of the server the kernel last entered.
 */
export interface MonolithicShared {
  slabs: Record<ServerName, SharedArrayBuffer>;
  running: Int32Array;
}

export class MonolithicKernel implements Kernel {
  private readonly servers = new Map<ServerName, ServerInstance>();
  private readonly slabs = new Map<ServerName, Counters>();
  private readonly wire: SimulatedWire;
  private readonly running: Int32Array;
  private panic: FaultRecord | null = null;

  constructor(
    cfg: KernelConfig,
    machine: Machine,
    private readonly regs: Registers,
    shared?: MonolithicShared,
  ) {
    this.wire = new SimulatedWire(regs);
    this.running = shared?.running ?? new Int32Array(1);
    for (const name of SERVER_NAMES) {
      const counters = new Counters(shared?.slabs[name]);
      this.slabs.set(name, counters);
      const ctx: ServerContext = {
        name,
        blocks: heapBlocks,
        counters,
        rng: serverRng(name, machine.seed),
        call: (to, msg) => this.call(name, to, msg) as never,
      };
      this.servers.set(name, bootByName(name, cfg, { machine, device: this.wire }, ctx));
    }
  }

  /** `from` calls `to`: a procedure call inside the kernel. */
  private async call(from: ServerName, to: ServerName, msg: { type: string }) {
    if (this.panic) throw new KernelPanic(this.panic.server, this.panic.message);
    const c = this.slabs.get(from)!;
    c.add('directCalls');
    c.add('syscalls'); // a server asking the kernel for a service: one system call
    if (!DEFAULT_GRANTS.some(([a, b]) => a === from && b === to)) return fail('ECALLDENIED', `${from} -> ${to}`);
    const r = await this.dispatch(to, msg);
    this.running[0] = SERVER_NAMES.indexOf(from); // back in the caller
    return r;
  }

  /** Run `msg` in server `to`; a throw there panics the kernel. */
  private async dispatch(to: ServerName, msg: { type: string }) {
    this.running[0] = SERVER_NAMES.indexOf(to);
    try {
      return await this.servers.get(to)!.dispatch(msg);
    } catch (e) {
      if (!this.panic) {
        this.panic = { server: to, kind: 'panic', message: e instanceof Error ? e.message : String(e) };
        requestStop(this.regs);
      }
      throw e instanceof KernelPanic ? e : new KernelPanic(to, e);
    }
  }

  async run(plan: RunPlan): Promise<KernelRunResult> {
    const elu0 = performance.eventLoopUtilization();
    const wire = await this.wire.run(clientPlan(plan), (msg) => this.dispatch('net', msg) as never);
    const utilisation = performance.eventLoopUtilization(elu0).utilization;
    const domains = [{ name: 'kernel', servers: [...SERVER_NAMES], utilisation }];
    return { wire, faults: this.panic ? [this.panic] : [], domains };
  }

  counters() {
    return Object.fromEntries([...this.slabs].map(([n, c]) => [n, c.snapshot()])) as ReturnType<Kernel['counters']>;
  }

  async shutdown(): Promise<void> {
    this.servers.clear();
  }
}
