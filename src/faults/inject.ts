/**
 * Fault injection, done by the kernels (never by server code): before a server
 * handles a message, its domain asks the injector whether a planned fault is
 * due, and if so strikes it there. The same injector runs in both kernels; what
 * differs is what the strike does to the system around it.
 *
 * The fault board is shared memory the harness owns: each planned fault's state
 * (armed, struck) and where it struck (wall time, request, message), so that a
 * restarted incarnation never strikes the same fault again and the harness can
 * report it even after the domain that struck it died.
 */
import type { Reply, ServerName } from '../protocol.js';
import type { ServerContext, ServerInstance } from '../servers/server.js';
import type { FaultKind, FaultSpec } from './plan.js';
import { leaveNote } from '../harness/domain.js';

/** Per fault: struck flag, then float64 cells [atEpochMs, request, message]. */
const CELLS = 4;

export interface FaultBoard {
  /** [0]: the clients' start (epoch ms, 0 before); then CELLS per fault: struck (0/1), atEpochMs, request, message. */
  cells: Float64Array;
}

export function newFaultBoard(faults: number): FaultBoard {
  return { cells: new Float64Array(new SharedArrayBuffer(8 * (1 + CELLS * faults))) };
}

/** The board over `buffer`, as another thread maps it. */
export function faultBoardOver(cells: Float64Array): FaultBoard {
  return { cells };
}

/** Wall time every thread agrees on, ms. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The clients start: `ms` triggers count from now. */
export function markStart(board: FaultBoard): void {
  board.cells[0] = epochMs();
}

export interface Struck {
  index: number;
  atEpochMs: number;
  request: number;
  message: number;
}

/** Which planned faults struck, and where. */
export function struckFaults(board: FaultBoard, count: number): Struck[] {
  const out: Struck[] = [];
  for (let i = 0; i < count; i++) {
    const b = 1 + CELLS * i;
    if (board.cells[b] === 1) out.push({ index: i, atEpochMs: board.cells[b + 1], request: board.cells[b + 2], message: board.cells[b + 3] });
  }
  return out;
}

/** When planned fault `index` struck (epoch ms), or null if it has not. */
export function struckAtMs(board: FaultBoard, index: number): number | null {
  const b = 1 + CELLS * index;
  return board.cells[b] === 1 ? board.cells[b + 1] : null;
}

export class InjectedFault extends Error {
  constructor(server: ServerName, kind: FaultKind, message: number) {
    super(`injected fault: ${server} ${kind === 'crash' ? 'crashed' : kind} at its message ${message}`);
    this.name = 'InjectedFault';
  }
}

/** What the domain must do instead of handling the message normally. */
export type Strike = { kind: 'garbage' } | { kind: 'lose'; lost(): void } | null;

export class FaultInjector {
  private readonly mine: { spec: FaultSpec; index: number }[];

  constructor(
    private readonly server: ServerName,
    specs: readonly FaultSpec[],
    private readonly board: FaultBoard,
    /** How many requests the wire has sent so far. */
    private readonly requestsSent: () => number,
  ) {
    this.mine = specs.map((spec, index) => ({ spec, index })).filter((f) => f.spec.server === server);
  }

  get planned(): boolean {
    return this.mine.length > 0;
  }

  /**
   * The server is about to handle its message number `message`. Strikes a due
   * fault: a crash throws, an exit ends the thread, a hang spins, an oom grows
   * the heap until the domain dies; garbage and lose are returned for the
   * caller to act on. `write`: the message is a write (only a write can be lost).
   */
  before(message: number, write: boolean): Strike {
    if (this.mine.length === 0) return null;
    for (const f of this.mine) {
      const b = 1 + CELLS * f.index;
      if (this.board.cells[b] === 1 || !this.due(f.spec, message)) continue;
      if (f.spec.kind === 'lose') {
        if (!write) continue;
        return { kind: 'lose', lost: () => this.record(b, message) };
      }
      this.record(b, message);
      return this.strike(f.spec.kind, message);
    }
    return null;
  }

  private due(spec: FaultSpec, message: number): boolean {
    const t = spec.trigger;
    switch (t.on) {
      case 'message':
        return message >= t.at;
      case 'request':
        return this.requestsSent() >= t.at;
      case 'ms': {
        const start = this.board.cells[0];
        return start > 0 && epochMs() - start >= t.at;
      }
    }
  }

  private record(b: number, message: number): void {
    const c = this.board.cells;
    c[b] = 1;
    c[b + 1] = epochMs();
    c[b + 2] = this.requestsSent();
    c[b + 3] = message;
  }

  private strike(kind: FaultKind, message: number): Strike {
    const why = new InjectedFault(this.server, kind, message);
    switch (kind) {
      case 'crash':
        throw why;
      case 'exit':
        leaveNote(`${why.message} (its thread exited)`);
        process.exit(3);
      // falls through: never reached
      case 'hang':
        leaveNote(`${why.message} (it spun forever)`);
        for (;;); // only a watchdog gets us out
      case 'oom': {
        leaveNote(`${why.message} (its heap grew past the limit)`);
        const hog: number[][] = [];
        for (;;) hog.push(new Array<number>(1 << 22).fill(message + 0.5));
      }
      case 'garbage':
        return { kind: 'garbage' };
      case 'lose':
        return null;
    }
  }
}

/**
 * Handle `msg` in `srv` as both kernels do: count it as the server's next
 * message, strike a fault due there (not on a device's messages: faults strike
 * what servers send each other), and dispatch. `garbage` makes the malformed
 * reply a garbage fault answers with, as the kernel can carry it.
 */
export function handleMessage(
  srv: ServerInstance,
  injector: FaultInjector | null,
  msg: { type: string },
  ctx: ServerContext,
  garbage: () => Reply<unknown>,
): Reply<unknown> | Promise<Reply<unknown>> {
  ctx.counters.add('messagesHandled');
  if (injector?.planned && ctx.caller?.server !== 'device') {
    const strike = injector.before(ctx.counters.get('messagesHandled'), msg.type.endsWith('_WRITE'));
    if (strike?.kind === 'garbage') return garbage();
    if (strike?.kind === 'lose') ctx = { ...ctx, injected: { kind: 'lose-write', lost: strike.lost } };
  }
  return srv.dispatch(msg, ctx);
}
