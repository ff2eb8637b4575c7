/**
 * The microkernel's data-path IPC: one Endpoint per granted channel end.
 *
 * Verbs: `call` (send, await the matching reply), `send` (no reply), `notify`
 * (a payload-free event, like a MINIX notification or an interrupt). Replies are
 * matched by a per-endpoint counter id. Every call has a deadline (ETIMEDOUT) and
 * every pending call is settled with EPEERDIED when the peer's end closes, so no
 * promise is ever left pending. Errors cross as values.
 *
 * Transport `copy`: the message is structured-cloned into the peer's heap
 * (Mach-style message copy). Each message, its crossing and every byte the clone
 * copies are counted here, where they happen.
 *
 * The port is any MessagePort-like object, so the same code runs over an
 * in-thread MessageChannel in tests and between workers in the kernel.
 */
import type { Counters } from '../metrics/counters.js';
import type { Reply } from '../protocol.js';

/** The few MessagePort members this module uses (node:worker_threads' MessagePort fits). */
export interface PortLike {
  postMessage(value: unknown): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  close(): void;
}

const CALL = 0;
const REPLY = 1;
const SEND = 2;
const NOTIFY = 3;
type Frame =
  | { k: typeof CALL; i: number; m: { type: string } }
  | { k: typeof REPLY; i: number; r: Reply<unknown> }
  | { k: typeof SEND; m: { type: string } }
  | { k: typeof NOTIFY; e: string };

export interface EndpointOptions {
  counters: Counters;
  /** Deadline of each call, ms. */
  deadlineMs: number;
  /** Handles a call or send from the peer; null when the peer may not call us (ECALLDENIED). */
  onCall: ((msg: { type: string }) => Reply<unknown> | Promise<Reply<unknown>>) | null;
  /** Receives the peer's notifications. */
  onNotify?: (event: string) => void;
  /** The local server crashed while handling a message. */
  onCrash: (err: unknown) => void;
  /** Names this endpoint in error details. */
  label: string;
}

interface Pending {
  resolve: (r: Reply<unknown>) => void;
  deadline: number;
}

export class Endpoint {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>(); // insertion order = deadline order
  private closed = false;
  private sweeper: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly port: PortLike,
    private readonly opts: EndpointOptions,
  ) {
    port.on('message', (f) => this.receive(f as Frame));
    port.on('close', () => this.peerGone('EPEERDIED'));
  }

  /** Send `msg` and await the peer's reply; never rejects. */
  call(msg: { type: string }): Promise<Reply<unknown>> {
    if (this.closed) return Promise.resolve({ ok: false, errno: 'EPEERDIED', detail: this.opts.label });
    const i = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(i, { resolve, deadline: performance.now() + this.opts.deadlineMs });
      this.startSweeper();
      this.post({ k: CALL, i, m: msg }, msg);
    });
  }

  /** Send `msg` without waiting for anything. */
  send(msg: { type: string }): void {
    if (!this.closed) this.post({ k: SEND, m: msg }, msg);
  }

  /** Tell the peer that `event` happened: no payload, no reply. */
  notify(event: string): void {
    if (!this.closed) this.post({ k: NOTIFY, e: event }, {});
  }

  /** Close our end: pending calls settle with ESHUTDOWN. */
  close(): void {
    this.peerGone('ESHUTDOWN');
    this.port.close();
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  private post(frame: Frame, payloadOf: object): void {
    const c = this.opts.counters;
    c.add('ipcMessages');
    c.add('crossings');
    c.add('bytesCopied', clonedBytes(payloadOf));
    this.port.postMessage(frame);
  }

  private receive(f: Frame): void {
    if (f.k === REPLY) {
      const p = this.pending.get(f.i);
      if (p) {
        this.pending.delete(f.i);
        p.resolve(f.r);
      }
      return;
    }
    if (f.k === NOTIFY) {
      try {
        this.opts.onNotify?.(f.e);
      } catch (e) {
        this.opts.onCrash(e);
      }
      return;
    }
    const onCall = this.opts.onCall;
    const answer = (r: Reply<unknown>) => {
      if (f.k === CALL && !this.closed) this.post({ k: REPLY, i: f.i, r }, r.ok ? (r.value as object) : r);
    };
    if (onCall === null) return answer({ ok: false, errno: 'ECALLDENIED', detail: this.opts.label });
    let r: Reply<unknown> | Promise<Reply<unknown>>;
    try {
      r = onCall(f.m);
    } catch (e) {
      return this.opts.onCrash(e);
    }
    if (r instanceof Promise) r.then(answer, (e) => this.opts.onCrash(e));
    else answer(r);
  }

  private peerGone(errno: 'EPEERDIED' | 'ESHUTDOWN'): void {
    this.closed = true;
    this.stopSweeper();
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.resolve({ ok: false, errno, detail: this.opts.label });
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    const period = Math.max(5, Math.min(250, this.opts.deadlineMs / 4));
    this.sweeper = setInterval(() => this.sweep(), period);
    this.sweeper.unref?.();
  }

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  /** Settle every call past its deadline with ETIMEDOUT (oldest first). */
  private sweep(): void {
    const now = performance.now();
    for (const [i, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(i);
      p.resolve({ ok: false, errno: 'ETIMEDOUT', detail: this.opts.label });
    }
    if (this.pending.size === 0) this.stopSweeper();
  }
}

/**
 * Bytes a structured clone of `obj` copies: each distinct ArrayBuffer behind a
 * byte view among its fields (or in an array field) is copied whole. Shared
 * memory is not copied. Payloads sit at the top level of messages and replies.
 */
export function clonedBytes(obj: object): number {
  let total = 0;
  let seen: Set<ArrayBufferLike> | null = null;
  const count = (v: unknown) => {
    if (!ArrayBuffer.isView(v) || v.buffer instanceof SharedArrayBuffer) return;
    seen ??= new Set();
    if (seen.has(v.buffer)) return;
    seen.add(v.buffer);
    total += v.buffer.byteLength;
  };
  for (const v of Object.values(obj)) {
    if (Array.isArray(v)) v.forEach(count);
    else count(v);
  }
  return total;
}
