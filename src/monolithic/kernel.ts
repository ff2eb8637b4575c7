/**
 * The monolithic kernel: every server in one domain (this thread). A call is a
 * direct dispatch to the callee's handler and a payload is passed by reference,
 * so a file's bytes go from the buffer cache to the wire without a copy.
 *
 * A server that throws is a kernel panic: the whole system stops. Nothing is
 * checked at the boundaries between servers (that is what makes it fast), so a
 * malformed message or reply is a wild pointer: whoever touches it panics.
 */
import { Counters } from '../metrics/counters.js';
import { DEFAULT_GRANTS, RECEIVE_CALLS, SERVER_NAMES, type Reply, type ServerName } from '../protocol.js';
import { fail, heapBlocks, type Caller, type Handle, type ServerContext, type ServerInstance } from '../servers/server.js';
import { DEVICE_CALLER } from '../servers/net.js';
import { bootByName, placedModules, serverRng, type Machine, type PlacedModules } from '../boot.js';
import type { KernelConfig } from '../config.js';
import { FaultInjector, handleMessage, type FaultBoard } from '../faults/inject.js';
import { openDevice, type WireDevice } from '../wire/link.js';
import type { PortLike } from '../microkernel/ipc.js';
import { REG, type Registers } from '../wire/registers.js';
import { domainNo, TraceRecorder } from '../trace/recorder.js';
import type { TraceRecord, TraceSettings } from '../trace/types.js';

export class KernelPanic extends Error {
  constructor(readonly server: ServerName, cause: unknown) {
    super(`kernel panic in ${server}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'KernelPanic';
  }
}

/**
 * Memory the harness gives the kernel so that it can still read it if the
 * kernel's thread hangs or dies: a counter slab per server, and a register
 * holding the index (in SERVER_NAMES) of the server the kernel last entered.
 */
export interface MonolithicShared {
  slabs: Record<ServerName, SharedArrayBuffer>;
  running: Int32Array;
}

/** A malformed value in a kernel without boundaries: any use of it faults. */
function wildPointer(): never {
  return new Proxy(
    {},
    {
      get() {
        throw new TypeError('a wild pointer: a server used a malformed message');
      },
    },
  ) as never;
}

const ONLY: Handle['state'] = 'up';

/** Whom each server may call: a call checks its grant in one lookup. */
const GRANTED = Object.fromEntries(
  SERVER_NAMES.map((n): [ServerName, ReadonlySet<ServerName>] => [n, new Set(DEFAULT_GRANTS.filter(([a]) => a === n).map(([, b]) => b))]),
) as Record<ServerName, ReadonlySet<ServerName>>;
/** Each server's index in SERVER_NAMES (what the `running` register holds). */
const SERVER_INDEX = Object.fromEntries(SERVER_NAMES.map((n, i) => [n, i])) as Record<ServerName, number>;

export class MonolithicKernel {
  private readonly servers = new Map<ServerName, ServerInstance>();
  private readonly slabs = new Map<ServerName, Counters>();
  private readonly injectors = new Map<ServerName, FaultInjector>();
  /** Servers whose next call is malformed (a garbage fault in a server that answers no calls). */
  private readonly garbageNext = new Set<ServerName>();
  private readonly running: Int32Array;
  private panicked: KernelPanic | null = null;
  /** The first calls refused for want of a grant: "from -> to: TYPE". */
  readonly denied: string[] = [];
  /** Traces the sampled requests (null: no tracing). */
  private readonly rec: TraceRecorder | null;
  /**
   * Each server's context with each caller in it (by the caller's name: in the
   * monolith every server has one incarnation), made once: the handler of a call
   * sees who called (`caller`, read-only) in a context of its own, which a call
   * used to copy for every call (an object of ten fields, and its garbage).
   */
  private readonly callerContexts = new Map<ServerName, Map<Caller['server'], ServerContext>>();

  constructor(
    cfg: KernelConfig,
    machine: Machine,
    regs: Registers,
    board: FaultBoard,
    /** The wire device net is handed (`MonolithicKernel.boot` opens it on the link's end). */
    device: WireDevice,
    /** Called once, at the first panic: the system stops. */
    private readonly onPanic: (p: KernelPanic) => void,
    shared?: MonolithicShared,
    /** Modules placed for some servers, loaded (`MonolithicKernel.boot` loads them). */
    placed: PlacedModules = {},
    /** Trace the sampled requests (null: no tracing). */
    trace: TraceSettings | null = null,
  ) {
    this.running = shared?.running ?? new Int32Array(1);
    const rec = trace ? new TraceRecorder(trace, 'monolith', domainNo(null)) : null;
    this.rec = rec;
    for (const name of SERVER_NAMES) {
      const counters = new Counters(shared?.slabs[name]);
      this.slabs.set(name, counters);
      this.injectors.set(name, new FaultInjector(name, cfg.faults, board, () => Atomics.load(regs, REG.issued)));
      const ctx: ServerContext = {
        name,
        blocks: heapBlocks,
        counters,
        rng: serverRng(name, machine.seed),
        call: ((to: ServerName | Handle, msg: { type: string }) => this.call(name, typeof to === 'string' ? to : to.server, msg)) as ServerContext['call'],
        handle: ((to: ServerName) => ({ server: to, gen: 1, state: ONLY })) as ServerContext['handle'],
        sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
      };
      // tracing: a request's unit of work makes its calls as that request's
      if (rec) ctx.task = (work, reqId) => (rec.sampled(reqId) ? this.tracedTask(name, ctx, work, reqId) : work(ctx));
      this.servers.set(name, bootByName(name, cfg, { machine, device }, ctx, placed));
    }
    device.attach((msg, flow) =>
      flow !== undefined && msg.type === 'NET_RECV' && rec?.sampled(msg.reqId) ? this.dispatch('net', msg, DEVICE_CALLER, msg.reqId, flow) : this.dispatch('net', msg, DEVICE_CALLER),
    );
  }

  /** `name`'s calls in a context, as request `reqId`'s. */
  private tracedContext(name: ServerName, ctx: ServerContext, reqId: number): ServerContext {
    const call = ((to: ServerName | Handle, msg: { type: string }) => this.call(name, typeof to === 'string' ? to : to.server, msg, reqId)) as ServerContext['call'];
    return { ...ctx, call };
  }

  /** A unit of work serving sampled request `reqId`: its calls are traced, and it is a span on the request's track. */
  private async tracedTask<T>(name: ServerName, ctx: ServerContext, work: (ctx: ServerContext) => Promise<T>, reqId: number): Promise<T> {
    const ts = this.rec!.now();
    try {
      return await work(this.tracedContext(name, ctx, reqId));
    } finally {
      this.rec!.span(reqId, 'request', 'request', ts);
    }
  }

  /** What the kernel traced so far (empty unless tracing); the recorder starts empty again. */
  trace(): TraceRecord[] {
    return this.rec ? this.rec.drain() : [];
  }

  /**
   * Load the modules `cfg` places for some servers (none placed: at once) and
   * open net's device on the link's end `nic`, then construct the kernel with
   * them. The constructor alone boots the shipped servers only.
   */
  static async boot(
    cfg: KernelConfig,
    machine: Machine,
    regs: Registers,
    board: FaultBoard,
    nic: PortLike,
    onPanic: (p: KernelPanic) => void,
    shared?: MonolithicShared,
    trace: TraceSettings | null = null,
  ): Promise<MonolithicKernel> {
    return new MonolithicKernel(cfg, machine, regs, board, await openDevice(nic, cfg, regs), onPanic, shared, await placedModules(cfg), trace);
  }

  /** Run every server's own loop; resolves when they have all ended (the wire closed). */
  async start(): Promise<void> {
    await Promise.all(
      [...this.servers].map(([name, srv]) =>
        srv.start().catch((e) => {
          throw this.panic(name, e);
        }),
      ),
    );
  }

  /** `from` calls `to`: a procedure call inside the kernel; `reqId`: the sampled request it belongs to, if traced. */
  private async call(from: ServerName, to: ServerName, msg: { type: string }, reqId?: number): Promise<Reply<unknown>> {
    if (this.panicked) throw this.panicked;
    const c = this.slabs.get(from)!;
    c.add('directCalls');
    c.add('syscalls'); // a server asking the kernel for a service: one system call
    if (!GRANTED[from].has(to)) {
      c.add('callsDenied');
      if (this.denied.length < 16) this.denied.push(`${from} -> ${to}: ${String(msg.type)}`);
      return fail('ECALLDENIED', `${from} -> ${to}`);
    }
    if (this.garbageNext.delete(from)) msg = wildPointer();
    const r = await (reqId === undefined ? this.dispatch(to, msg, { server: from, gen: 1 }) : this.tracedCall(from, to, msg, reqId));
    this.running[0] = SERVER_INDEX[from]; // back in the caller
    // a server that answers no calls (the app) handles the requests it receives
    if (r.ok && RECEIVE_CALLS.has(msg.type) && this.servers.get(from)!.answersNoCalls) {
      this.received(from);
    }
    return r;
  }

  /** `name` took a message off a receive: it counts as a message it handles, where faults can strike. */
  private received(name: ServerName): void {
    const c = this.slabs.get(name)!;
    c.add('messagesHandled');
    const strike = this.injectors.get(name)!.before(c.get('messagesHandled'), false);
    if (strike?.kind === 'garbage') this.garbageNext.add(name);
  }

  /**
   * The dispatch of a traced request's call: the call's own stretch on the
   * thread (the callee's handler runs inside it) is a slice where its flow
   * starts, and its wait for the return a span on the request's track.
   */
  private async tracedCall(from: ServerName, to: ServerName, msg: { type: string }, reqId: number): Promise<Reply<unknown>> {
    const rec = this.rec!;
    const flow = rec.flow();
    const ts = rec.now();
    const r = this.dispatch(to, msg, { server: from, gen: 1 }, reqId, flow);
    rec.send(reqId, flow, from, to, String(msg.type), 'call', ts);
    rec.slice(reqId, `${from} calls ${to}: ${String(msg.type)}`, 'call', ts);
    try {
      return await r;
    } finally {
      rec.span(reqId, `${String(msg.type)} (in ${to})`, 'call', ts);
    }
  }

  /**
   * Run `msg` in server `to`; a throw there panics the kernel. `reqId`, `flow`:
   * traced, as that request's message (its handler's calls too).
   */
  private dispatch(to: ServerName, msg: { type: string }, caller: Caller, reqId?: number, flow?: number): Reply<unknown> | Promise<Reply<unknown>> {
    if (this.panicked) return Promise.reject(this.panicked);
    this.running[0] = SERVER_INDEX[to];
    const srv = this.servers.get(to)!;
    if (flow !== undefined && this.rec) return this.tracedDispatch(srv, to, msg, caller, reqId!, flow);
    // a procedure call: the handler's own reply as it is, or its promise; a throw, now or later, is a panic
    let r: Reply<unknown> | Promise<Reply<unknown>>;
    try {
      r = handleMessage(srv, this.injectors.get(to)!, msg, this.contextFor(to, srv.ctx, caller), wildPointer);
    } catch (e) {
      return Promise.reject(this.panic(to, e));
    }
    return r instanceof Promise ? r.catch((e: unknown) => Promise.reject(this.panic(to, e))) : r;
  }

  /** dispatch for a traced request's message: its handler's stretch on the thread is a slice where its flow arrives. */
  private async tracedDispatch(srv: ServerInstance, to: ServerName, msg: { type: string }, caller: Caller, reqId: number, flow: number): Promise<Reply<unknown>> {
    const rec = this.rec!;
    const ts = rec.now();
    try {
      const r = handleMessage(srv, this.injectors.get(to)!, msg, { ...this.tracedContext(to, srv.ctx, reqId), caller }, wildPointer);
      rec.recv(reqId, flow, ts);
      rec.slice(reqId, `${to}: ${String(msg.type)}${caller.server === 'device' ? ' from the wire' : ''}`, 'handler', ts);
      return await r;
    } catch (e) {
      throw this.panic(to, e);
    }
  }

  /** `to`'s context `ctx` with `caller` in it (a server, or the wire's device), made at its first call. */
  private contextFor(to: ServerName, ctx: ServerContext, caller: Caller): ServerContext {
    let byCaller = this.callerContexts.get(to);
    if (!byCaller) this.callerContexts.set(to, (byCaller = new Map()));
    let c = byCaller.get(caller.server);
    if (!c) byCaller.set(caller.server, (c = { ...ctx, caller: { ...caller } }));
    return c;
  }

  private panic(server: ServerName, e: unknown): KernelPanic {
    if (e instanceof KernelPanic) return e;
    if (!this.panicked) {
      this.panicked = new KernelPanic(server, e);
      this.onPanic(this.panicked);
    }
    return this.panicked;
  }

  counters() {
    return Object.fromEntries([...this.slabs].map(([n, c]) => [n, c.snapshot()])) as Record<ServerName, ReturnType<Counters['snapshot']>>;
  }
}
