/**
 * The microkernel: every server in its own worker thread (protection domain),
 * connected only by the channels the boot manifest grants. The kernel owns the
 * memory that must outlive a server — the disk image, each domain's counter
 * slab, the wire's registers — and watches every worker.
 *
 * There is no supervisor yet: when a server dies the run stops, the requests in
 * flight are settled by the IPC layer (EPEERDIED), and the fault is reported.
 */
import { MessageChannel, type Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { COUNTER_SLAB_BYTES, readCounters, type CounterValues } from '../metrics/counters.js';
import { DEFAULT_GRANTS, SERVER_NAMES, type ServerName } from '../protocol.js';
import type { KernelConfig } from '../config.js';
import type { Machine } from '../boot.js';
import type { FaultRecord, Kernel, KernelRunResult, RunPlan } from '../kernel.js';
import type { WireResult } from '../wire/clients.js';
import { requestStop, type Registers } from '../wire/registers.js';
import type { WorkerControl } from './worker.js';
import { startWorker } from '../harness/spawn.js';
import { watchHeartbeats } from '../harness/heartbeat.js';
import { newPoolMemory, type PoolMemory } from './pool.js';
import { newDoorbell, newRingMemory, type Doorbell, type RingMemory } from './ring.js';
import { BLOCK_SIZE } from '../servers/fs.js';

/** What a server worker is started with (its workerData). */
export interface WorkerBoot {
  name: ServerName;
  cfg: KernelConfig;
  machine: Machine;
  counters: SharedArrayBuffer;
  regs: ArrayBufferLike;
  channels: {
    peer: ServerName;
    /** The channel's port: carries messages, or with ring signalling only the peer's liveness. */
    port: MessagePort;
    peerMayCall: boolean;
    /** Ring signalling: our outbound and inbound rings and the peer's doorbell. */
    rings: { tx: RingMemory; rx: RingMemory; peerBell: Doorbell } | null;
  }[];
  /** Ring signalling: this domain's doorbell. */
  bell: Doorbell;
  /** Shared buffer pools every domain maps (the `shared` transport). */
  pools: PoolMemory[];
  /** Where a crashing worker leaves its reason: int32 length, then UTF-8. */
  crashNote: SharedArrayBuffer;
}

interface Domain {
  name: ServerName;
  worker: Worker;
  exitedYet: boolean;
  hung: boolean;
  crashNote: SharedArrayBuffer;
  ctl: Comlink.Remote<WorkerControl>;
  counters: Float64Array;
  exited: Promise<number>;
}

export class Microkernel implements Kernel {
  private readonly faults: FaultRecord[] = [];
  private firstFault!: Promise<void>;
  private stopping = false;

  private constructor(
    private readonly cfg: KernelConfig,
    private readonly regs: Registers,
    private readonly domains: Map<ServerName, Domain>,
  ) {}

  /** Start one worker per server, connect the granted pairs, and boot every server. */
  static async boot(cfg: KernelConfig, machine: Machine, regs: Registers) {
    const channels = new Map<ServerName, WorkerBoot['channels']>(SERVER_NAMES.map((n) => [n, []]));
    const bells = new Map<ServerName, Doorbell>(SERVER_NAMES.map((n) => [n, newDoorbell()]));
    const rings = cfg.signal === 'ring';
    const pairs = new Set<string>();
    for (const [a, b] of DEFAULT_GRANTS) {
      const key = [a, b].sort().join('|');
      if (pairs.has(key)) continue;
      pairs.add(key);
      const { port1, port2 } = new MessageChannel();
      const mayCall = (x: ServerName, y: ServerName) => DEFAULT_GRANTS.some(([p, q]) => p === x && q === y);
      const ab = rings ? newRingMemory(cfg.ringBytes) : null;
      const ba = rings ? newRingMemory(cfg.ringBytes) : null;
      channels.get(a)!.push({
        peer: b,
        port: port1,
        peerMayCall: mayCall(b, a),
        rings: ab && ba ? { tx: ab, rx: ba, peerBell: bells.get(b)! } : null,
      });
      channels.get(b)!.push({
        peer: a,
        port: port2,
        peerMayCall: mayCall(a, b),
        rings: ab && ba ? { tx: ba, rx: ab, peerBell: bells.get(a)! } : null,
      });
    }
    const domains = new Map<ServerName, Domain>();
    const pools = cfg.transport === 'shared' ? [newPoolMemory(0, cfg.poolBlocks, BLOCK_SIZE)] : [];
    for (const name of SERVER_NAMES) {
      const slab = new SharedArrayBuffer(COUNTER_SLAB_BYTES);
      const crashNote = new SharedArrayBuffer(1024);
      const boot: WorkerBoot = {
        name,
        cfg,
        machine,
        counters: slab,
        regs: regs.buffer,
        channels: channels.get(name)!,
        pools,
        crashNote,
        bell: bells.get(name)!,
      };
      const worker = startWorker('microkernel/worker', {
        workerData: boot,
        transferList: boot.channels.map((c) => c.port),
        name: `microlith-${name}`,
      });
      const exited = new Promise<number>((res) => worker.once('exit', res));
      const ctl = Comlink.wrap<WorkerControl>(nodeEndpoint(worker));
      const d: Domain = { name, worker, exitedYet: false, hung: false, crashNote, ctl, counters: new Float64Array(slab), exited };
      exited.then(() => (d.exitedYet = true));
      domains.set(name, d);
    }
    const k = new Microkernel(cfg, regs, domains);
    k.watch();
    try {
      await Promise.race([Promise.all([...domains.values()].map((d) => d.ctl.boot())), k.firstFault.then(() => {
        throw new Error(`boot failed: ${k.faults.map((f) => `${f.server}: ${f.message}`).join('; ')}`);
      })]);
    } catch (e) {
      await k.shutdown();
      throw e;
    }
    return k;
  }

  private signalFault!: () => void;

  /** Record the first error or unexpected exit of each worker; stop the run on any. */
  private watch(): void {
    let signal!: () => void;
    this.firstFault = new Promise((res) => (signal = res));
    this.signalFault = signal;
    for (const d of this.domains.values()) {
      let message: string | null = null;
      d.worker.on('error', (e) => (message = e instanceof Error ? e.message : String(e)));
      d.exited.then((code) => {
        if (this.stopping) return;
        const note = crashNote(d.crashNote);
        this.faults.push({ server: d.name, kind: 'crash', message: note ?? message ?? `worker exited with code ${code}` });
        requestStop(this.regs);
        signal();
      });
    }
  }

  async run(plan: RunPlan): Promise<KernelRunResult> {
    const elu0 = new Map([...this.domains].map(([n, d]) => [n, d.worker.performance.eventLoopUtilization()]));
    const net = this.domains.get('net')!;
    const wire = net.ctl.run(plan).then(
      (w): WireResult | null => w,
      () => null,
    );
    const netDied = net.exited.then(() => null);
    let grace: ReturnType<typeof setTimeout> | undefined;
    const afterFault = this.firstFault.then(async () => {
      // the run stops; give the requests in flight their deadline to settle
      const expired = new Promise<null>((res) => (grace = setTimeout(res, this.cfg.callTimeoutMs + 1000, null)));
      return Promise.race([wire, netDied, expired]);
    });
    const stopHeartbeats = watchHeartbeats(
      [...this.domains.values()].map((d) => ({ name: d.name, ping: () => d.ctl.stats(), gone: () => d.exitedYet })),
      this.cfg.hangTimeoutMs,
      (name, silentMs) => {
        const d = this.domains.get(name as ServerName)!;
        d.hung = true;
        this.faults.push({ server: d.name, kind: 'hang', message: `${d.name} answered no heartbeat for ${Math.round(silentMs)} ms` });
        requestStop(this.regs);
        this.signalFault();
      },
    );
    const result = await Promise.race([wire, netDied, afterFault]);
    clearTimeout(grace);
    stopHeartbeats();
    // a domain that died near the end may not have been reported yet: each one
    // either answers the control plane or has exited (and is then in `faults`)
    await Promise.all([...this.domains.values()].filter((d) => !d.hung).map((d) => this.answersOrExits(d)));
    const domains = [...this.domains].map(([name, d]) => ({
      name,
      servers: [name],
      // a dead worker reports zeros; its share of the run is unknown
      utilisation: d.worker.performance.eventLoopUtilization(elu0.get(name)).utilization || 0,
    }));
    return { wire: result, faults: [...this.faults], domains };
  }

  /** Wait until `d` answers its control plane or exits; if it does neither in time, it hung. */
  private async answersOrExits(d: Domain): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silent = new Promise<'silent'>((res) => (timer = setTimeout(res, this.cfg.hangTimeoutMs, 'silent')));
    const r = await Promise.race([d.ctl.stats(), d.exited, silent]);
    clearTimeout(timer);
    if (r === 'silent') {
      d.hung = true;
      this.faults.push({ server: d.name, kind: 'hang', message: `${d.name} answered nothing for ${this.cfg.hangTimeoutMs} ms` });
    }
  }

  counters(): Record<ServerName, CounterValues> {
    return Object.fromEntries([...this.domains].map(([n, d]) => [n, readCounters(d.counters)])) as Record<
      ServerName,
      CounterValues
    >;
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.domains.values()].map(async (d) => {
        d.ctl[Comlink.releaseProxy]();
        await d.worker.terminate();
        await d.exited;
      }),
    );
  }
}

/** The reason a crashed worker left, if any. */
function crashNote(note: SharedArrayBuffer): string | null {
  const n = Atomics.load(new Int32Array(note), 0);
  return n > 0 ? new TextDecoder().decode(new Uint8Array(note, 4, n).slice()) : null;
}
