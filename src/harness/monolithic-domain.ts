/**
 * The harness's handle on a monolithic kernel running in its own thread
 * (monolithic-host.ts): boot, the servers' loops with heartbeats, counters read
 * from shared slabs, shutdown. The kernel is one fault domain: a panic, a crash
 * of its thread or a hang anywhere in it stops the whole system. The clients
 * then see their connections reset and nothing more is served.
 */
import type { FaultRecord, Kernel, KernelRunResult, Supervision } from '../kernel.js';
import { COUNTER_SLAB_BYTES, readCounters, type CounterValues } from '../metrics/counters.js';
import { SERVER_NAMES, type ServerName } from '../protocol.js';
import { isTypeScriptFile } from '../module-file.js';
import { requestStop } from '../wire/registers.js';
import { GONE, newChannel, startDomain, watchHeartbeats, type Domain, type ThreadCpu } from './domain.js';
import type { MonolithicBoot, MonolithicControl, PanicNote } from './monolithic-host.js';
import type { KernelEnv } from './env.js';

export class MonolithicDomain implements Kernel {
  private readonly domain: Domain<MonolithicControl>;
  private readonly slabs: Record<ServerName, SharedArrayBuffer>;
  private readonly running = new Int32Array(new SharedArrayBuffer(4));
  private fault: FaultRecord | null = null;
  private main: Promise<unknown> = Promise.resolve();
  private heartbeats: ReturnType<typeof watchHeartbeats> | null = null;
  private elu0: ReturnType<Domain<MonolithicControl>['eluMark']> | undefined;
  private utilisation = 0;
  private cpu0: ThreadCpu | null = null;
  private thread: ThreadCpu | null = null;
  private down!: () => void;
  private readonly stopped = new Promise<void>((res) => (this.down = res));

  constructor(private readonly env: KernelEnv) {
    this.slabs = Object.fromEntries(SERVER_NAMES.map((n) => [n, new SharedArrayBuffer(COUNTER_SLAB_BYTES)])) as Record<ServerName, SharedArrayBuffer>;
    const { port1, port2 } = newChannel();
    const boot: MonolithicBoot = {
      cfg: env.cfg,
      machine: env.machine,
      regs: env.regs.buffer as SharedArrayBuffer,
      board: env.board.cells,
      slabs: this.slabs,
      running: this.running.buffer as SharedArrayBuffer,
      nic: port2,
      trace: env.trace ?? null,
    };
    this.domain = startDomain<MonolithicControl, MonolithicBoot>({
      module: 'harness/monolithic-host',
      name: 'microlith-monolith',
      boot,
      transfer: [port2],
      heapLimitMb: env.cfg.heapLimitMb,
      loadsTypeScript: Object.values(env.cfg.serverModules ?? {}).some((f) => f !== undefined && isTypeScriptFile(f)),
    });
    env.link.attach(port1);
    void this.domain.exited.then(() => {
      if (!this.fault && !this.shuttingDown) this.systemDown(this.diedFault());
    });
  }

  private shuttingDown = false;

  /** Resolves when the kernel's thread is up, or rejects if it could not start. */
  async boot(): Promise<this> {
    const up = await this.domain.control((c) => c.ping());
    if (up !== true) throw new Error(`the monolithic kernel did not start: ${this.domain.reason()}`);
    return this;
  }

  private lastServer(): ServerName {
    return SERVER_NAMES[Atomics.load(this.running, 0)] ?? 'net';
  }

  /** What the thread's death was: a panic (its note names the server), or its thread crashed. */
  private diedFault(): FaultRecord {
    const why = this.domain.reason();
    let note: PanicNote | null = null;
    try {
      note = JSON.parse(why) as PanicNote;
    } catch {
      // not a panic note: the thread died some other way
    }
    const oom = this.domain.outOfMemory;
    const server = note?.panic ?? this.lastServer();
    const message = note ? note.message : `the kernel's thread died (last running ${server}): ${why}`;
    return { server, kind: note ? 'panic' : oom ? 'oom' : this.domain.exitCode === 3 ? 'exit' : 'crash', message, outcome: 'system-down', noticedAtMs: this.env.sinceStart(), incarnation: 1, planned: this.env.lastStruck(null) };
  }

  /** The system is down: record why, reset the clients, stop sending. */
  private systemDown(f: FaultRecord): void {
    this.fault ??= f;
    this.env.link.fail();
    requestStop(this.env.regs);
    this.down();
  }

  async start(): Promise<void> {
    this.elu0 = this.domain.eluMark();
    this.cpu0 = this.domain.cpuMark();
    this.heartbeats = watchHeartbeats(this.env.cfg.hangTimeoutMs, (_n, ms) => {
      const server = this.lastServer();
      this.systemDown({
        server,
        kind: 'hang',
        message: `the kernel answered no heartbeat for ${Math.round(ms)} ms, last running ${server}`,
        outcome: 'system-down',
        noticedAtMs: this.env.sinceStart(),
        incarnation: 1,
        planned: this.env.lastStruck(null),
      });
      void this.domain.terminate();
    });
    this.heartbeats.add({ name: 'kernel', ping: () => this.domain.control((c) => c.ping()), gone: () => !this.domain.alive });
    this.main = this.domain.control((c) => c.start());
  }

  async finish(): Promise<KernelRunResult> {
    // the wire closed: the servers' loops end at once, unless the system is down
    let timer: ReturnType<typeof setTimeout> | undefined;
    const boundMs = this.env.cfg.hangTimeoutMs + this.env.cfg.callTimeoutMs;
    const expired = new Promise((res) => (timer = setTimeout(res, boundMs, 'late')));
    const r = await Promise.race([this.main.catch(() => GONE), this.stopped.then(() => 'down'), expired]);
    clearTimeout(timer);
    const late = r === 'late' ? [`the kernel's loops had not ended ${boundMs} ms after the wire closed: the last calls may be uncounted`] : [];
    this.heartbeats?.stop();
    this.utilisation = this.domain.utilisation(this.elu0);
    this.thread = this.domain.cpuSince(this.cpu0);
    const logged = this.domain.alive && !this.fault ? await this.domain.control((c) => c.denied()) : GONE;
    const denied = logged === GONE ? [] : logged;
    const traced = this.env.trace && this.domain.alive && !this.fault ? await this.domain.control((c) => c.trace()) : GONE;
    const trace = this.env.trace ? (traced === GONE ? [] : traced) : undefined;
    const f = this.fault;
    const supervision = Object.fromEntries(
      SERVER_NAMES.map((s): [ServerName, Supervision] => [s, { incarnations: 1, restarts: 0, givenUp: false, recoveryMs: [], downMs: 0 }]),
    ) as Record<ServerName, Supervision>;
    return { faults: f ? [f] : [], domains: [{ name: 'kernel', servers: [...SERVER_NAMES], utilisation: this.utilisation, thread: this.thread }], supervision, late, denied, ...(trace ? { trace } : {}) };
  }

  counters(): Record<ServerName, CounterValues> {
    return Object.fromEntries(SERVER_NAMES.map((n) => [n, readCounters(new Float64Array(this.slabs[n]))])) as Record<ServerName, CounterValues>;
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.heartbeats?.stop();
    this.env.link.detach();
    // a kernel that ran to the end is stopped (the code cache may take what it compiled); a fallen one is terminated
    await (this.fault ? this.domain.terminate() : this.domain.stop());
  }
}
