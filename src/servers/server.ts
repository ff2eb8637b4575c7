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

/** Blocks on the server's own heap; a freed block is left to the garbage collector. */
export const heapBlocks: BlockAllocator = {
  alloc: (bytes) => new Uint8Array(bytes),
  free() {},
};

export interface ServerContext {
  readonly name: ServerName;
  readonly blocks: BlockAllocator;
  /** Ask server `to` to do `msg`; resolves with its reply, never rejects. */
  call<S extends ServerName, K extends MsgType<S>>(to: S, msg: Msg<S, K>): Promise<Reply<Rep<S, K>>>;
  readonly counters: Counters;
  readonly rng: Rng;
  /**
   * Set by fault injection: the next write this server accepts is to be
   * acknowledged and lost; the server calls `lost()` when it has done so.
   */
  readonly injected?: { kind: 'lose-write'; lost(): void };
}

export type Handler<S extends ServerName, K extends MsgType<S>, State> = (
  state: State,
  msg: Msg<S, K>,
  ctx: ServerContext,
) => Reply<Rep<S, K>> | Promise<Reply<Rep<S, K>>>;

export type CallTable<S extends ServerName, State> = { [K in MsgType<S>]: Handler<S, K, State> };

export interface ServerModule<S extends ServerName, State, Boot> {
  readonly name: S;
  init(boot: Boot, ctx: ServerContext): State;
  readonly calls: CallTable<S, State>;
}

export function ok<T>(value: T): Reply<T> {
  return { ok: true, value };
}

export function fail(errno: Errno, detail?: string): { ok: false; errno: Errno; detail?: string } {
  return detail === undefined ? { ok: false, errno } : { ok: false, errno, detail };
}

/**
 * Fault injection: when the server receives message number `atMessage`, it
 * crashes (throws) or hangs (spins forever, never answering anything again).
 * `lose`: the first write the server receives from message `atMessage` on is
 * acknowledged but never reaches the media (a lying volatile write cache), so
 * the end-of-run durability check must find it lost.
 */
export type FaultKind = 'crash' | 'hang' | 'lose';
export interface FaultPlan {
  server: ServerName;
  atMessage: number;
  kind?: FaultKind;
}

export class InjectedFault extends Error {
  constructor(server: ServerName, n: number) {
    super(`injected fault: ${server} crashed at message ${n}`);
    this.name = 'InjectedFault';
  }
}

/** A booted server: its module, its state and its context. */
export class ServerInstance<S extends ServerName = ServerName> {
  constructor(
    readonly module: ServerModule<S, any, any>,
    readonly state: unknown,
    readonly ctx: ServerContext,
    private readonly faultAt = 0,
    private readonly faultKind: FaultKind = 'crash',
  ) {}

  /** A `lose` fault still waiting for its write. */
  private loseArmed = true;

  /**
   * Handle one message: look up the handler, ENOSYS if none. Throws only if the
   * server crashes. `ctx` may be a per-invocation context (the microkernel's,
   * which tracks the payloads this invocation holds).
   */
  dispatch(msg: { type: string }, ctx: ServerContext = this.ctx): Reply<unknown> | Promise<Reply<unknown>> {
    const counters = ctx.counters;
    counters.add('messagesHandled');
    if (this.faultAt > 0 && this.faultKind === 'lose') {
      // armed until a write is really lost (a refused write loses nothing)
      if (this.loseArmed && counters.get('messagesHandled') >= this.faultAt && msg.type.endsWith('_WRITE')) {
        ctx = { ...ctx, injected: { kind: 'lose-write', lost: () => (this.loseArmed = false) } };
      }
    } else if (this.faultAt > 0 && counters.get('messagesHandled') === this.faultAt) {
      if (this.faultKind === 'hang') for (;;); // an injected infinite loop: only a watchdog gets us out
      throw new InjectedFault(this.module.name, this.faultAt);
    }
    const table = this.module.calls as unknown as Record<string, Handler<S, MsgType<S>, unknown>>;
    const handler = Object.hasOwn(table, msg.type) ? table[msg.type] : undefined;
    if (handler === undefined) {
      counters.add('enosys');
      return fail('ENOSYS', `${this.module.name} has no handler for ${String(msg.type)}`);
    }
    return handler(this.state, msg as AnyMsg<S> as Msg<S, MsgType<S>>, ctx);
  }
}

/** Boot `module` with `boot` information in context `ctx`. */
export function bootServer<S extends ServerName, State, Boot>(
  module: ServerModule<S, State, Boot>,
  boot: Boot,
  ctx: ServerContext,
  fault?: FaultPlan,
): ServerInstance<S> {
  const state = module.init(boot, ctx);
  const mine = fault && fault.server === module.name ? fault : null;
  return new ServerInstance(module, state, ctx, mine?.atMessage ?? 0, mine?.kind ?? 'crash');
}
