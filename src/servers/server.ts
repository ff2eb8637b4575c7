/**
 * The one shape every server has (MINIX style), and the only things a server may
 * see of the world: the ServerContext. Nothing here knows which kernel runs it.
 *
 * A server module is: an `init` that builds its state from boot information, and
 * a call table of `do<Op>` handlers typed so that a message type without a handler
 * is a compile error. `dispatch` is the receive loop's body: unknown messages get
 * ENOSYS, and a handler that throws is a server crash, which the kernel handles.
 */
import type { AnyMsg, Errno, Msg, MsgType, Rep, Reply, ServerName } from '../protocol.js';
import type { Counters } from '../metrics/counters.js';

/** A seeded generator (a `seedrandom` instance). */
export interface Rng {
  (): number;
  int32(): number;
}

/**
 * Where a server's long-lived blocks (its cache) live. The kernel decides: the
 * server's private heap, or a pool shared with other domains.
 */
export interface BlockAllocator {
  /** A block of `bytes` this server keeps and hands out read-only views of. */
  alloc(bytes: number): Uint8Array;
  /** The server no longer keeps `block`; views of it already handed out stay valid. */
  free(block: Uint8Array): void;
}

/**
 * Run `work` as one unit of work in `ctx` (its kernel's `task`, or as it is).
 * `reqId`: the request it serves, if it serves one (a kernel that traces
 * requests counts the work's calls as that request's).
 */
export function runTask<T>(ctx: ServerContext, work: (ctx: ServerContext) => Promise<T>, reqId?: number): Promise<T> {
  return ctx.task ? (reqId === undefined ? ctx.task(work) : ctx.task(work, reqId)) : work(ctx);
}

/** Blocks on the server's own heap; a freed block is left to the garbage collector. */
export const heapBlocks: BlockAllocator = {
  alloc: (bytes) => new Uint8Array(bytes),
  free() {},
};

/**
 * A handle on a server: which incarnation of it a call goes to. A call through
 * the handle of an incarnation that has since died fails with ESTALE, never
 * reaching the new one; `handle(name)` gives the current one. `state`: as the
 * kernel saw it when the handle was taken (up, down and being restarted, or
 * given up by the supervisor).
 */
export interface Handle<S extends ServerName = ServerName> {
  readonly server: S;
  readonly gen: number;
  readonly state: 'up' | 'down' | 'failed';
}

/** Who sent the message being handled: an incarnation of a server, or the device in this domain. */
export interface Caller {
  readonly server: ServerName | 'device';
  readonly gen: number;
}

/**
 * What a server's handlers and loop are given by the kernel it runs under:
 * the same interface in both kernels, so server code stays kernel-neutral.
 */
export interface ServerContext {
  readonly name: ServerName;
  readonly blocks: BlockAllocator;
  /** Ask server `to` (by name: its current incarnation) to do `msg`; resolves with its reply, never rejects. */
  call<S extends ServerName, K extends MsgType<S>>(to: S | Handle<S>, msg: Msg<S, K>): Promise<Reply<Rep<S, K>>>;
  /** The current incarnation of server `to`. */
  handle<S extends ServerName>(to: S): Handle<S>;
  /** Wait `ms` milliseconds (a kernel timer, as a MINIX alarm). */
  sleep(ms: number): Promise<void>;
  /**
   * Run `work` as one unit of work of a server with its own loop (the app
   * serving one request): what its calls map in (shared pool slots of the
   * replies) stays valid until it ends, and is then released. Without it, a
   * kernel that maps nothing runs `work` as it is (see `runTask`). `reqId`:
   * the request the work serves, whose calls a kernel that traces tags.
   */
  task?<T>(work: (ctx: ServerContext) => Promise<T>, reqId?: number): Promise<T>;
  readonly counters: Counters;
  readonly rng: Rng;
  /** Who sent the message being handled (set per invocation). */
  readonly caller?: Caller;
  /**
   * Set by fault injection: the next write this server accepts is to be
   * acknowledged and lost; the server calls `lost()` when it has done so.
   */
  readonly injected?: { kind: 'lose-write'; lost(): void };
}

/** A `do<Op>` handler: the server's state, the message, its context; the reply (an errno as a value, never a throw). */
export type Handler<S extends ServerName, K extends MsgType<S>, State> = (
  state: State,
  msg: Msg<S, K>,
  ctx: ServerContext,
) => Reply<Rep<S, K>> | Promise<Reply<Rep<S, K>>>;

/** A server's call table: one handler per message type of its protocol (src/protocol.ts). */
export type CallTable<S extends ServerName, State> = { [K in MsgType<S>]: Handler<S, K, State> };

/**
 * A server, as a module: its name (the server it is), `init` (its state from
 * the kernel's boot information, at every incarnation), its call table, and
 * optionally a loop of its own and what to do when a client dies. A user's
 * own server module is placed for one of the servers with `serverModules` /
 * `--server-module NAME=FILE`: the file's default or named export `server` is
 * checked on load (see `loadServerModule` in boot.ts).
 */
export interface ServerModule<S extends ServerName, State, Boot> {
  readonly name: S;
  init(boot: Boot, ctx: ServerContext): State;
  readonly calls: CallTable<S, State>;
  /**
   * A server that is also a process with a loop of its own (the app, a client
   * of the others): the kernel runs `start` once it is booted and its channels
   * are open. It resolves when the server's work is over (the wire closed).
   */
  start?(state: State, ctx: ServerContext): Promise<void>;
  /**
   * An incarnation of a server that calls this one died: what it held here (a
   * socket layer's connections, for instance) goes with it. `forGood`: the
   * supervisor gave up on that server, so no incarnation of it comes back.
   */
  clientDied?(state: State, client: Caller, ctx: ServerContext, forGood: boolean): void;
}

/** A successful reply carrying `value`. */
export function ok<T>(value: T): Reply<T> {
  return { ok: true, value };
}

/** A failed reply: the errno, and what went wrong. */
export function fail(errno: Errno, detail?: string): { ok: false; errno: Errno; detail?: string } {
  return detail === undefined ? { ok: false, errno } : { ok: false, errno, detail };
}

/** A booted server: its module, its state and its context. */
export class ServerInstance<S extends ServerName = ServerName> {
  /** It answers no calls (a client with a loop of its own): the requests it receives are its messages. */
  readonly answersNoCalls: boolean;

  constructor(
    readonly module: ServerModule<S, any, any>,
    readonly state: unknown,
    readonly ctx: ServerContext,
  ) {
    this.answersNoCalls = Object.keys(module.calls).length === 0;
  }

  /**
   * Handle one message: look up the handler, ENOSYS if none. Throws only if the
   * server crashes. `ctx` may be a per-invocation context (its caller, and in
   * the microkernel the payloads this invocation holds).
   */
  dispatch(msg: { type: string }, ctx: ServerContext = this.ctx): Reply<unknown> | Promise<Reply<unknown>> {
    const table = this.module.calls as unknown as Record<string, Handler<S, MsgType<S>, unknown>>;
    const handler = Object.hasOwn(table, msg.type) ? table[msg.type] : undefined;
    if (handler === undefined) {
      ctx.counters.add('enosys');
      return fail('ENOSYS', `${this.module.name} has no handler for ${String(msg.type)}`);
    }
    return handler(this.state, msg as AnyMsg<S> as Msg<S, MsgType<S>>, ctx);
  }

  /** Run the server's own loop, if it has one. */
  start(): Promise<void> {
    return this.module.start ? this.module.start(this.state, this.ctx) : Promise.resolve();
  }

  /** A client of this server died. */
  clientDied(client: Caller, forGood: boolean): void {
    this.module.clientDied?.(this.state, client, this.ctx, forGood);
  }
}

/** Boot `module` with `boot` information in context `ctx`. */
export function bootServer<S extends ServerName, State, Boot>(
  module: ServerModule<S, State, Boot>,
  boot: Boot,
  ctx: ServerContext,
): ServerInstance<S> {
  return new ServerInstance(module, module.init(boot, ctx), ctx);
}
