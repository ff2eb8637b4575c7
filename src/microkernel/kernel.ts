/**
 * The microkernel: every server in its own worker thread (protection domain),
 * connected only by the channels the boot manifest grants. The kernel owns the
 * memory that must outlive a server — the disk image, each server's counter
 * slab, the wire's registers, the fault board, the shared pools — and its
 * supervisor (the reincarnation server) watches every server domain.
 *
 * A server that exits, throws, runs out of memory or misses its heartbeats is
 * terminated and started again from its boot information, with a new
 * incarnation number: its peers get a channel to the new incarnation, and calls
 * through handles on the old one fail with ESTALE. The first restart comes at
 * once, later ones back off; past the restart intensity the supervisor gives
 * up on the server (supervisor.ts) and calls to it fail with ESERVERFAILED.
 * What dies with a server is what was in its domain: the disk's buffer cache
 * (the image outlives it), the net server's connections (their clients see
 * them reset), the requests the app was serving.
 */
import { COUNTER_SLAB_BYTES, readCounters, type CounterValues } from '../metrics/counters.js';
import { isTypeScriptFile } from '../module-file.js';
import { DEFAULT_GRANTS, SERVER_NAMES, type ServerName } from '../protocol.js';
import type { FaultRecord, Kernel, KernelRunResult, Supervision } from '../kernel.js';
import { epochMs, struckAtMs } from '../faults/inject.js';
import { GONE, newChannel, startDomain, watchHeartbeats, withTransfer, type Domain, type Port, type ThreadCpu } from '../harness/domain.js';
import type { KernelEnv } from '../harness/env.js';
import type { ChannelGrant, WorkerBoot, WorkerControl } from './worker.js';
import { newPoolMemory, type PoolMemory } from './pool.js';
import { loadTransportModule, newGrantMemory, type GrantMemory } from './transport-module.js';
import { newDoorbell, newRingMemory, type Doorbell, type PumpCounts } from './ring.js';
import { BLOCK_SIZE } from '../servers/fs.js';
import type { TraceRecord } from '../trace/types.js';
import { decideSafely, defaultRestartPolicy, loadRestartPolicy, type RestartPolicyFunction } from './policy-module.js';

interface Incarnation {
  gen: number;
  domain: Domain<WorkerControl>;
  bell: Doorbell;
  /** Epoch ms of the first message it served (0: none yet). */
  firstServed: Float64Array;
  startedAt: number;
  elu0: ReturnType<Domain<WorkerControl>['eluMark']> | undefined;
  cpu0: ThreadCpu | null;
  main: Promise<unknown> | null;
  /** Its failure has been handled. */
  over: boolean;
}

/** One server, over all its incarnations. */
interface Slot {
  name: ServerName;
  slab: SharedArrayBuffer;
  cur: Incarnation;
  state: 'up' | 'down' | 'failed';
  /** Epoch ms of each restart decided (the restart history). */
  restarts: number[];
  /** Per failure: when it struck or was noticed, and the incarnation that followed it. */
  outages: { failedAt: number; upAt: number | null; next: Incarnation | null }[];
  /** Host-measured busy ms of incarnations that are gone: unknown, so 0. */
  busyMs: number;
}

/** How long a restarted domain may take to boot, at least, ms. */
const BOOT_TIMEOUT_MS = 10_000;

const mayCall = (x: ServerName, y: ServerName) => DEFAULT_GRANTS.some(([p, q]) => p === x && q === y);
const granted = (x: ServerName, y: ServerName) => mayCall(x, y) || mayCall(y, x);

export class Microkernel implements Kernel {
  private readonly slots = new Map<ServerName, Slot>();
  private readonly faults: FaultRecord[] = [];
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly pools: PoolMemory[];
  /** A module transport's grant tables and domain memories (null without one). */
  private readonly grants: GrantMemory | null;
  private policy: RestartPolicyFunction = defaultRestartPolicy;
  private heartbeats: ReturnType<typeof watchHeartbeats> | null = null;
  private started = false;
  private stopping = false;
  private runStart = 0;

  private constructor(private readonly env: KernelEnv) {
    const cfg = env.cfg;
    this.pools = cfg.transport === 'shared' ? [newPoolMemory(0, cfg.poolBlocks, BLOCK_SIZE)] : [];
    this.grants = cfg.transportModule === undefined ? null : newGrantMemory(cfg);
  }

  /** Start one domain per server, connect the granted pairs, and boot every server. */
  static async boot(env: KernelEnv): Promise<Microkernel> {
    // a transport module is checked here first: a bad one is one error naming the file, before any domain starts
    if (env.cfg.transportModule !== undefined) await loadTransportModule(env.cfg.transportModule);
    // a restart policy placed in a module file is loaded (and checked) before any domain starts
    const policy = env.cfg.restartPolicy === undefined ? defaultRestartPolicy : await loadRestartPolicy(env.cfg.restartPolicy);
    const k = new Microkernel(env);
    k.policy = policy;
    const bells = new Map(SERVER_NAMES.map((n) => [n, newDoorbell()]));
    const channels = new Map<ServerName, ChannelGrant[]>(SERVER_NAMES.map((n) => [n, []]));
    for (let i = 0; i < SERVER_NAMES.length; i++) {
      for (let j = i + 1; j < SERVER_NAMES.length; j++) {
        const [a, b] = [SERVER_NAMES[i], SERVER_NAMES[j]];
        if (!granted(a, b)) continue;
        const [forA, forB] = k.pair(a, 1, bells.get(a)!, b, 1, bells.get(b)!);
        channels.get(a)!.push(forA);
        channels.get(b)!.push(forB);
      }
    }
    for (const name of SERVER_NAMES) {
      const slab = new SharedArrayBuffer(COUNTER_SLAB_BYTES);
      const nic = name === 'net' ? k.nicChannel() : null;
      const inc = k.incarnate(name, 1, slab, bells.get(name)!, channels.get(name)!, [], nic?.port2 ?? null);
      k.slots.set(name, { name, slab, cur: inc, state: 'up', restarts: [], outages: [], busyMs: 0 });
      if (nic) env.link.attach(nic.port1);
    }
    for (const s of k.slots.values()) k.watch(s, s.cur);
    try {
      const booted = await Promise.all([...k.slots.values()].map((s) => s.cur.domain.control((c) => c.boot())));
      if (booted.includes(GONE)) {
        const dead = [...k.slots.values()].filter((s) => !s.cur.domain.alive);
        throw new Error(`boot failed: ${dead.map((s) => `${s.name}: ${s.cur.domain.reason()}`).join('; ')}`);
      }
    } catch (e) {
      await k.shutdown();
      throw e;
    }
    return k;
  }

  /** A channel between incarnation `ag` of `a` and `bg` of `b`: the grant each side gets. */
  private pair(a: ServerName, ag: number, aBell: Doorbell, b: ServerName, bg: number, bBell: Doorbell): [ChannelGrant, ChannelGrant] {
    const { port1, port2 } = newChannel();
    const rings = this.env.cfg.signal === 'ring';
    const ab = rings ? newRingMemory(this.env.cfg.ringBytes) : null;
    const ba = rings ? newRingMemory(this.env.cfg.ringBytes) : null;
    return [
      { peer: b, peerGen: bg, port: port1, peerMayCall: mayCall(b, a), mayCall: mayCall(a, b), rings: ab && ba ? { tx: ab, rx: ba, peerBell: bBell } : null },
      { peer: a, peerGen: ag, port: port2, peerMayCall: mayCall(a, b), mayCall: mayCall(b, a), rings: ab && ba ? { tx: ba, rx: ab, peerBell: aBell } : null },
    ];
  }

  private nicChannel(): { port1: Port; port2: Port } {
    return newChannel();
  }

  /** Start incarnation `gen` of `name`'s domain (not yet booted). */
  private incarnate(
    name: ServerName,
    gen: number,
    slab: SharedArrayBuffer,
    bell: Doorbell,
    channels: ChannelGrant[],
    awaited: WorkerBoot['awaited'],
    nic: Port | null,
  ): Incarnation {
    const firstServed = new SharedArrayBuffer(8);
    const boot: WorkerBoot = {
      name,
      gen,
      cfg: this.env.cfg,
      machine: this.env.machine,
      counters: slab,
      regs: this.env.regs.buffer,
      board: this.env.board.cells,
      channels,
      awaited,
      bell,
      pools: this.pools,
      grants: this.grants,
      nic,
      firstServed,
      trace: this.env.trace ?? null,
    };
    const domain = startDomain<WorkerControl, WorkerBoot>({
      module: 'microkernel/worker',
      name: `microlith-${name}${gen > 1 ? `-${gen}` : ''}`,
      role: name,
      boot,
      transfer: [...channels.map((c) => c.port), ...(nic ? [nic] : [])],
      heapLimitMb: this.env.cfg.heapLimitMb,
      loadsTypeScript: [...Object.values(this.env.cfg.serverModules ?? {}), this.env.cfg.transportModule].some((f) => f !== undefined && isTypeScriptFile(f)),
    });
    return { gen, domain, bell, firstServed: new Float64Array(firstServed), startedAt: epochMs(), elu0: undefined, cpu0: null, main: null, over: false };
  }

  /** Watch an incarnation's exit (its heartbeats start once it has booted). */
  private watch(slot: Slot, inc: Incarnation): void {
    void inc.domain.exited.then((code) => {
      const why = inc.domain.reason();
      const kind = inc.domain.outOfMemory ? 'oom' : code === 3 ? 'exit' : 'crash';
      this.failed(slot, inc, kind, why);
    });
  }

  private beat(slot: Slot, inc: Incarnation): void {
    this.heartbeats!.add({
      name: `${slot.name}#${inc.gen}`,
      ping: () => inc.domain.control((c) => c.stats()),
      gone: () => !inc.domain.alive || inc.over,
    });
  }

  private onHung = (name: string, silentMs: number): void => {
    const slot = this.slots.get(name.split('#')[0] as ServerName)!;
    const gen = Number(name.split('#')[1]);
    if (slot.cur.gen !== gen) return;
    this.failed(slot, slot.cur, 'hang', `${slot.name} answered no heartbeat for ${Math.round(silentMs)} ms`);
  };

  /** Incarnation `inc` of `slot` failed: terminate it, then restart it or give up. */
  private failed(slot: Slot, inc: Incarnation, kind: FaultRecord['kind'], message: string): void {
    if (this.stopping || inc.over || slot.cur !== inc) return;
    inc.over = true;
    const planned = this.env.lastStruck(slot.name);
    const struckAt = planned === null ? null : struckAtMs(this.env.board, planned);
    const now = epochMs();
    slot.state = 'down';
    slot.outages.push({ failedAt: struckAt ?? now, upAt: null, next: null });
    if (inc.domain.alive) void inc.domain.terminate();
    const { maxRestarts, restartWindowMs } = this.env.cfg;
    const request = { server: slot.name, kind, incarnation: inc.gen, history: [...slot.restarts], now, budget: { maxRestarts, restartWindowMs } };
    const decision = decideSafely(this.policy, request, this.env.cfg.restartPolicy === undefined ? 'the restart policy' : `the restart policy ${this.env.cfg.restartPolicy}`);
    const record: FaultRecord = {
      server: slot.name,
      kind,
      message,
      outcome: decision.restart ? 'restarted' : 'given-up',
      noticedAtMs: this.env.sinceStart(),
      incarnation: inc.gen,
      planned,
    };
    this.faults.push(record);
    if (!decision.restart) {
      record.message += `; given up: ${decision.reason}`;
      slot.state = 'failed';
      for (const peer of this.slots.values()) {
        if (peer !== slot && peer.state === 'up' && granted(peer.name, slot.name)) void peer.cur.domain.control((c) => c.peerFailed(slot.name, inc.gen));
      }
      if (slot.name === 'net') this.env.link.fail();
      return;
    }
    slot.restarts.push(now);
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.restart(slot);
    }, decision.delayMs);
    this.timers.add(t);
  }

  /** Start the next incarnation of `slot` and connect it to the peers that are up. */
  private async restart(slot: Slot): Promise<void> {
    if (this.stopping) return;
    const gen = slot.cur.gen + 1;
    const bell = newDoorbell();
    const channels: ChannelGrant[] = [];
    const connects: [Slot, ChannelGrant, number][] = [];
    const awaited: WorkerBoot['awaited'] = [];
    for (const peer of this.slots.values()) {
      if (peer === slot || !granted(slot.name, peer.name)) continue;
      if (peer.state === 'up') {
        const [mine, theirs] = this.pair(slot.name, gen, bell, peer.name, peer.cur.gen, peer.cur.bell);
        channels.push(mine);
        connects.push([peer, theirs, peer.cur.gen]);
      } else if (mayCall(slot.name, peer.name)) {
        awaited.push({ peer: peer.name, gen: peer.cur.gen, failed: peer.state === 'failed' });
      }
    }
    const nic = slot.name === 'net' ? this.nicChannel() : null;
    const inc = this.incarnate(slot.name, gen, slot.slab, bell, channels, awaited, nic?.port2 ?? null);
    const outage = slot.outages[slot.outages.length - 1];
    outage.next = inc;
    slot.cur = inc;
    this.watch(slot, inc);
    // a thread takes tens of ms to start (more from sources, through the loader): its boot has a deadline of its own
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bootMs = Math.max(BOOT_TIMEOUT_MS, this.env.cfg.hangTimeoutMs);
    const late = new Promise<'late'>((res) => (timer = setTimeout(res, bootMs, 'late')));
    let booted: unknown;
    try {
      booted = await Promise.race([inc.domain.control((c) => c.boot()), late]);
    } catch (e) {
      // its init threw (or its module did not load): a failure like any other
      clearTimeout(timer);
      return this.failed(slot, inc, 'crash', `${slot.name} failed to boot: ${e instanceof Error ? e.message : String(e)}`);
    }
    clearTimeout(timer);
    if (booted === 'late') return this.failed(slot, inc, 'hang', `${slot.name} did not boot within ${bootMs} ms`);
    if (booted === GONE || this.stopping) return; // it died booting: its exit is handled like any other
    if (this.heartbeats) this.beat(slot, inc);
    const joined = new Set<Slot>();
    for (const [peer, grant, peerGen] of connects) {
      if (peer.state !== 'up') continue;
      if (peer.cur.gen === peerGen) await peer.cur.domain.control((c) => c.connect(withTransfer(grant, [grant.port])));
      else await this.reconnect(slot, peer); // the peer restarted meanwhile: a channel between the two that are up now
      joined.add(peer);
    }
    slot.state = 'up';
    outage.upAt = epochMs();
    // a peer that came up while this one booted, after it had found this one down (both were restarting): no channel joins
    // the two yet, and this is the one to make it. Taken in the same turn as the state above, so only one of two does.
    const unjoined = [...this.slots.values()].filter((p) => p !== slot && p.state === 'up' && granted(slot.name, p.name) && !joined.has(p));
    for (const peer of unjoined) if (peer.state === 'up' && slot.cur === inc) await this.reconnect(slot, peer);
    // a peer given up while this incarnation booted was told to the ones up then, not to it: its calls there fail fast too
    for (const peer of this.slots.values()) {
      if (peer !== slot && peer.state === 'failed' && granted(slot.name, peer.name)) await inc.domain.control((c) => c.peerFailed(peer.name, peer.cur.gen));
    }
    if (nic) this.env.link.attach(nic.port1);
    if (this.started) this.run(inc);
  }

  /** A new channel between the current incarnations of `a` and `b`, both up. */
  private async reconnect(a: Slot, b: Slot): Promise<void> {
    const [forA, forB] = this.pair(a.name, a.cur.gen, a.cur.bell, b.name, b.cur.gen, b.cur.bell);
    await a.cur.domain.control((c) => c.connect(withTransfer(forA, [forA.port])));
    await b.cur.domain.control((c) => c.connect(withTransfer(forB, [forB.port])));
  }

  /** Run an incarnation's own loop (the app's receive loops). */
  private run(inc: Incarnation): void {
    inc.elu0 = inc.domain.eluMark();
    inc.cpu0 = inc.domain.cpuMark();
    inc.main = inc.domain.control((c) => c.start());
  }

  async start(): Promise<void> {
    this.started = true;
    this.runStart = epochMs();
    this.heartbeats = watchHeartbeats(this.env.cfg.hangTimeoutMs, this.onHung);
    for (const s of this.slots.values()) {
      this.beat(s, s.cur);
      this.run(s.cur);
    }
  }

  async finish(): Promise<KernelRunResult> {
    // the wire closed: the app's receive loops end; wait for the incarnation
    // serving at the end (bounded: a server that is down may never come back)
    // (a hung one is found by its heartbeats meanwhile and restarted or given up)
    const boundMs = this.env.cfg.hangTimeoutMs + this.env.cfg.callTimeoutMs;
    const deadline = performance.now() + boundMs;
    const app = this.slots.get('app')!;
    let ended = false;
    while (performance.now() < deadline && app.state !== 'failed') {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise((res) => (timer = setTimeout(res, 50, 'tick')));
      const r = await Promise.race([app.state === 'up' && app.cur.main ? app.cur.main : tick, tick]);
      clearTimeout(timer);
      if (r !== 'tick' && r !== GONE) {
        ended = true;
        break;
      }
    }
    const late = ended || app.state === 'failed' ? [] : [`the app's receive loops had not ended ${boundMs} ms after the wire closed: the last messages may be uncounted`];
    this.heartbeats?.stop();
    const denied: string[] = [];
    const trace: TraceRecord[] = [];
    const pumps = new Map<ServerName, PumpCounts>();
    for (const s of this.slots.values()) {
      if (!s.cur.domain.alive || s.state !== 'up') continue;
      const st = await s.cur.domain.control((c) => c.stats());
      if (st !== GONE) denied.push(...st.denied);
      if (st !== GONE && st.pump) pumps.set(s.name, st.pump);
      if (!this.env.trace) continue;
      const traced = await s.cur.domain.control((c) => c.trace());
      if (traced !== GONE) trace.push(...traced);
    }
    const end = epochMs();
    const total = Math.max(1, end - this.runStart);
    const domains = [...this.slots.values()].map((s) => {
      const inc = s.cur;
      const lived = Math.max(0, end - Math.max(inc.startedAt, this.runStart));
      // an incarnation that is gone took its busy time with it: counted as 0
      const busy = inc.domain.alive ? inc.domain.utilisation(inc.elu0) * lived : 0;
      const pump = pumps.get(s.name);
      const thread = inc.domain.cpuSince(inc.cpu0);
      return { name: s.name, servers: [s.name], utilisation: Math.min(1, (busy + s.busyMs) / total), thread, ...(pump ? { pump } : {}) };
    });
    const supervision = Object.fromEntries(
      [...this.slots.values()].map((s): [ServerName, Supervision] => [
        s.name,
        {
          incarnations: s.cur.gen,
          restarts: s.outages.filter((o) => o.next !== null).length,
          givenUp: s.state === 'failed',
          recoveryMs: s.outages
            .filter((o) => o.next !== null)
            .map((o) => (o.next!.firstServed[0] > 0 ? Math.max(0, o.next!.firstServed[0] - o.failedAt) : null)),
          downMs: s.outages.reduce((n, o) => n + Math.max(0, (o.upAt ?? end) - o.failedAt), 0),
        },
      ]),
    ) as Record<ServerName, Supervision>;
    return { faults: [...this.faults], domains, supervision, late, denied, ...(this.env.trace ? { trace } : {}) };
  }

  counters(): Record<ServerName, CounterValues> {
    return Object.fromEntries([...this.slots].map(([n, s]) => [n, readCounters(new Float64Array(s.slab))])) as Record<ServerName, CounterValues>;
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    this.heartbeats?.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.env.link.detach();
    // a server that ran to the end is stopped (the code cache may take what it compiled); one that failed is terminated
    await Promise.all([...this.slots.values()].map((s) => (s.cur.over ? s.cur.domain.terminate() : s.cur.domain.stop())));
  }
}
