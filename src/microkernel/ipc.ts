/**
 * The microkernel's data-path IPC: one Endpoint per granted channel end.
 *
 * Verbs: `call` (send, await the matching reply), `send` (no reply), `notify`
 * (a payload-free event, like a MINIX notification or an interrupt). Replies are
 * matched by a per-endpoint counter id. Every call has a deadline (ETIMEDOUT) and
 * every pending call is settled with EPEERDIED when the peer's end closes, so no
 * promise is ever left pending. Errors cross as values.
 *
 * Payloads go through a transport codec (transport.ts: copy, transfer, shared)
 * and then through the port, whose structured clone copies whatever views are
 * left in the message. Each message, its crossing and every byte the clone
 * copies are counted here, where they happen. Pool slots a received message
 * maps stay pinned in a `held` list until the handler that received them is done.
 *
 * The port is any MessagePort-like object, so the same code runs over an
 * in-thread MessageChannel in tests and between workers in the kernel.
 */
import type { Counters } from '../metrics/counters.js';
import { RECEIVE_CALLS, type Errno, type Reply, type ServerName } from '../protocol.js';
import { DescriptorError } from './pool.js';
import { checkCall, checkReply } from './shapes.js';
import { copyCodec, release, type Codec, type Held } from './transport.js';
import { Sweeper } from './sweeper.js';
import type { TraceRecorder } from '../trace/recorder.js';

/** The few MessagePort members this module uses (node:worker_threads' MessagePort fits). */
export interface PortLike {
  postMessage(value: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  close(): void;
  /** True when the port counts the bytes it copies itself (rings); else a structured clone is assumed. */
  readonly countsCopies?: boolean;
  /** A port that sends later (batching) hands back here the frames it then finds it cannot send. */
  setUndeliverable?(cb: (frame: unknown, err: unknown) => void): void;
}

const CALL = 0;
const REPLY = 1;
const SEND = 2;
const NOTIFY = 3;
type Msg = { type: string } & Record<string, unknown>;
/** A trace tag, on the frames of a sampled request only while tracing: [request id, flow id]. */
type Tag = [number, number];
type Frame =
  | { k: typeof CALL; i: number; m: Msg; t?: Tag }
  | { k: typeof REPLY; i: number; r: Reply<unknown>; t?: Tag }
  | { k: typeof SEND; m: Msg }
  | { k: typeof NOTIFY; e: string };

export interface EndpointOptions {
  counters: Counters;
  /** Deadline of each call, ms. */
  deadlineMs: number;
  /**
   * Handles a call or send from the peer; null when the peer may not call us
   * (ECALLDENIED). Slots in `held` stay pinned until the returned reply is sent.
   */
  onCall: ((msg: { type: string }, held: Held, reqId?: number) => Reply<unknown> | Promise<Reply<unknown>>) | null;
  /** Receives the peer's notifications. */
  onNotify?: (event: string) => void;
  /** The local server crashed while handling a message. */
  onCrash: (err: unknown) => void;
  /** How payloads cross (default: copy). */
  codec?: Codec;
  /** Names this endpoint in error details. */
  label: string;
  /**
   * Check messages against the protocol's shapes (shapes.ts): calls and sends
   * for `server` (the one behind this endpoint) before `onCall`, ok replies from
   * `peer` (the one this endpoint calls). A refused call is answered EINVAL or
   * E2BIG, a refused reply reaches the caller as EINVAL; both are counted in
   * messagesRefused. Without it, nothing is checked.
   */
  shapes?: { server: ServerName; peer: ServerName; maxPayloadBytes: number };
  /**
   * Tracing (only when asked for): calls of a sampled request, and their
   * replies, carry a tag, and their sending, handling and receipt are recorded
   * as `self` talking to `peer`. `onCall` then gets the request id of a tagged
   * call. Nothing counted depends on it.
   */
  trace?: { rec: TraceRecorder; self: string; peer: string } | null;
}

interface Pending {
  resolve: (r: Reply<unknown>) => void;
  deadline: number;
  held: Held;
  /** The message type of the call, whose reply shape the reply is checked against. */
  type: string;
  /** Traced: the request it belongs to and when it was sent (epoch µs). */
  tr?: { req: number; ts: number };
}

export class Endpoint {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>(); // insertion order = deadline order
  private gone: 'EDEADDST' | 'ESHUTDOWN' | null = null; // why no more calls go out
  private readonly sweeper: Sweeper;
  private readonly codec: Codec;
  private readonly trace: NonNullable<EndpointOptions['trace']> | null;

  constructor(
    private readonly port: PortLike,
    private readonly opts: EndpointOptions,
  ) {
    this.codec = opts.codec ?? copyCodec;
    this.trace = opts.trace ?? null;
    this.sweeper = new Sweeper(opts.deadlineMs, () => this.sweep());
    port.on('message', (f) => this.receive(f as Frame));
    port.on('close', () => this.peerGone('EPEERDIED', 'EDEADDST'));
    port.setUndeliverable?.((f, e) => this.undeliverable(f as Frame, e));
  }

  /** A frame we counted as sent turned out unsendable: uncount it and settle what waits on it. */
  private undeliverable(f: Frame, err: unknown): void {
    const c = this.opts.counters;
    c.add('ipcMessages', -1);
    c.add('crossings', -1);
    c.add('syscalls', -1);
    const body = f.k === REPLY ? (f.r.ok ? f.r.value : undefined) : f.k === NOTIFY ? undefined : f.m;
    if (body !== undefined) c.add('bytesCopied', -clonedBytes(body));
    if (body !== undefined) c.add('ipcPayloadBytes', -payloadBytes(body));
    if (isRecord(body)) this.codec.abandon(body);
    const why = this.refused('EINVAL', `${this.opts.label}: message cannot be sent: ${err instanceof Error ? err.message : String(err)}`);
    if (f.k === CALL) {
      const p = this.pending.get(f.i);
      this.pending.delete(f.i);
      p?.resolve(why);
    } else if (f.k === REPLY && f.r.ok) {
      this.post(REPLY, f.i, why);
    }
  }

  /**
   * Send `msg` and await the peer's reply; never rejects. Descriptors in the
   * reply are mapped and pinned into `held` (the caller's invocation).
   * `reqId`: the request the call belongs to (traced if it is sampled).
   */
  call(msg: { type: string }, held: Held = [], reqId?: number): Promise<Reply<unknown>> {
    if (this.gone) return Promise.resolve(this.refused(this.gone));
    if (reqId !== undefined && this.trace?.rec.sampled(reqId)) return this.tracedCall(msg, held, reqId);
    const i = this.nextId++;
    // a receive waits for the outside world, not for work: no deadline
    const deadline = RECEIVE_CALLS.has(msg.type) ? Infinity : performance.now() + this.opts.deadlineMs;
    return new Promise((resolve) => {
      this.pending.set(i, { resolve, deadline, held, type: msg.type });
      const sent = this.post(CALL, i, msg as Msg);
      if (sent !== true) {
        this.pending.delete(i);
        resolve(sent);
        return;
      }
      this.sweeper.start();
    });
  }

  /** `call` of a sampled request: the same, tagged, and recorded. */
  private tracedCall(msg: { type: string }, held: Held, req: number): Promise<Reply<unknown>> {
    const { rec, self, peer } = this.trace!;
    const i = this.nextId++;
    const deadline = RECEIVE_CALLS.has(msg.type) ? Infinity : performance.now() + this.opts.deadlineMs;
    const flow = rec.flow();
    const ts = rec.now();
    return new Promise((resolve) => {
      this.pending.set(i, { resolve, deadline, held, type: msg.type, tr: { req, ts } });
      const sent = this.post(CALL, i, msg as Msg, [req, flow]);
      if (sent !== true) {
        this.pending.delete(i);
        resolve(sent);
        return;
      }
      rec.send(req, flow, self, peer, msg.type, 'call', ts);
      rec.slice(req, `send ${msg.type} to ${peer}`, 'ipc', ts);
      this.sweeper.start();
    });
  }

  /** Send `msg` without waiting for anything. */
  send(msg: { type: string }): void {
    if (!this.gone) this.post(SEND, 0, msg as Msg);
  }

  /** Tell the peer that `event` happened: no payload, no reply. */
  notify(event: string): void {
    if (!this.gone) this.postFrame({ k: NOTIFY, e: event }, []);
  }

  /** Close our end: pending and later calls settle with ESHUTDOWN. */
  close(): void {
    this.peerGone('ESHUTDOWN', 'ESHUTDOWN');
    this.port.close();
  }

  /** The peer is gone and this channel with it: pending calls settle as if it died (EPEERDIED). */
  abandon(): void {
    this.peerGone('EPEERDIED', 'EDEADDST');
    this.port.close();
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  private refused(errno: Errno, detail = this.opts.label): Reply<never> {
    return { ok: false, errno, detail };
  }

  /**
   * Encode and post a call, send or reply; true, or the error reply if the
   * message cannot be sent (then nothing was sent and nothing is counted).
   */
  private post(k: typeof CALL | typeof SEND | typeof REPLY, i: number, body: Msg | Reply<unknown>, t?: Tag): true | Reply<never> {
    let encoded: Record<string, unknown> | null = null;
    try {
      if (k === REPLY) {
        const r = body as Reply<unknown>;
        const enc = r.ok && isRecord(r.value) ? this.codec.encode(r.value, this.opts.counters) : null;
        encoded = enc?.value ?? null;
        const frame: Frame = { k, i, r: enc ? { ok: true, value: enc.value } : r };
        if (t) frame.t = t;
        this.postFrame(frame, enc?.transfer ?? [], enc?.value);
      } else {
        const enc = this.codec.encode(body as Msg, this.opts.counters);
        encoded = enc.value;
        this.postFrame(k === CALL ? (t ? { k, i, m: enc.value as Msg, t } : { k, i, m: enc.value as Msg }) : { k, m: enc.value as Msg }, enc.transfer, enc.value);
      }
      return true;
    } catch (e) {
      if (encoded) this.codec.abandon(encoded); // nothing was sent: drop the pins its encoding took
      return this.refused('EINVAL', `${this.opts.label}: message cannot be sent: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Post one frame and count it: a message (one kernel entry, as an L4 call or
   * reply-and-wait is one system call), a crossing into the peer's domain, the
   * payload bytes it carries (by value or by descriptor), and the bytes the
   * clone copies.
   */
  private postFrame(frame: Frame, transfer: ArrayBuffer[], payload?: unknown): void {
    // counted before it goes: the peer may act on it (and the run end) before this
    // thread runs again, and transferred buffers are empty once posted
    const carried = payload === undefined ? 0 : payloadBytes(payload);
    const copied = payload === undefined || this.port.countsCopies ? 0 : clonedBytes(payload, transfer);
    this.count(1, carried, copied);
    try {
      this.port.postMessage(frame, transfer);
    } catch (e) {
      this.count(-1, carried, copied); // nothing went
      throw e;
    }
  }

  /** Count a message sent (k = 1) or take it back (k = −1). */
  private count(k: 1 | -1, carried: number, copied: number): void {
    const c = this.opts.counters;
    c.add('ipcMessages', k);
    c.add('crossings', k);
    c.add('syscalls', k);
    if (carried) c.add('ipcPayloadBytes', k * carried);
    if (copied) c.add('bytesCopied', k * copied);
  }

  private receive(f: Frame): void {
    switch (f.k) {
      case REPLY:
        return f.t ? this.tracedReply(f.i, f.r, f.t) : this.receiveReply(f.i, f.r);
      case NOTIFY:
        try {
          this.opts.onNotify?.(f.e);
        } catch (e) {
          this.opts.onCrash(e);
        }
        return;
      default:
        return this.receiveCall(f);
    }
  }

  private receiveReply(i: number, r: Reply<unknown>): void {
    const p = this.pending.get(i);
    if (!p) return this.drop(r); // a late reply to a call that timed out
    this.pending.delete(i);
    const mark = p.held.length; // the caller's invocation may hold pins from before
    if (r.ok && isRecord(r.value)) {
      try {
        this.codec.decode(r.value, p.held);
      } catch (e) {
        if (!(e instanceof DescriptorError)) throw e;
        this.opts.counters.add('descriptorsRefused');
        return p.resolve(this.refused('EFAULT', e.message));
      }
    }
    const bad = r.ok && this.opts.shapes ? checkReply(this.opts.shapes.peer, p.type, r.value) : null;
    if (bad) {
      this.opts.counters.add('messagesRefused');
      release(p.held.splice(mark)); // the caller never sees this payload: drop only the pins its decode took
      return p.resolve(this.refused(bad.errno, `${this.opts.label}: ${bad.detail}`));
    }
    p.resolve(r);
  }

  /** A reply of a sampled request: taken in as any, and recorded. */
  private tracedReply(i: number, r: Reply<unknown>, [req, flow]: Tag): void {
    const rec = this.trace?.rec;
    if (!rec) return this.receiveReply(i, r);
    const ts = rec.now();
    const p = this.pending.get(i);
    rec.recv(req, flow, ts);
    this.receiveReply(i, r);
    rec.slice(req, `reply to ${p?.type ?? 'a call'} from ${this.trace!.peer}`, 'ipc', ts);
    // the call's wait, on the request's own track
    if (p?.tr) rec.span(p.tr.req, `${p.type} (waiting for ${this.trace!.peer})`, 'call', p.tr.ts, ts);
  }

  /** Nobody wants `r`: map its descriptors only to drop the pins the sender took. */
  private drop(r: Reply<unknown>): void {
    if (!r.ok || !isRecord(r.value)) return;
    const held: Held = [];
    try {
      this.codec.decode(r.value, held);
    } catch (e) {
      if (!(e instanceof DescriptorError)) throw e;
    }
    release(held);
  }

  private receiveCall(f: Extract<Frame, { k: typeof CALL | typeof SEND }>): void {
    if (this.trace && f.k === CALL && (f.t || RECEIVE_CALLS.has(f.m?.type))) return this.receiveTracedCall(f);
    const held: Held = [];
    const answer = (r: Reply<unknown>) => {
      if (f.k === CALL && this.gone !== 'ESHUTDOWN') {
        const sent = this.post(REPLY, f.i, r);
        if (sent !== true) this.post(REPLY, f.i, sent);
      }
      release(held);
    };
    this.handleCall(f, held, answer);
  }

  /**
   * A call while tracing: a tagged one (of a sampled request), or a receive,
   * whose reply hands over a request (and is tagged if that one is sampled).
   */
  private receiveTracedCall(f: Extract<Frame, { k: typeof CALL }>): void {
    const { rec, self, peer } = this.trace!;
    const ts = rec.now();
    const tagged = f.t ? f.t[0] : undefined;
    if (f.t) rec.recv(f.t[0], f.t[1], ts);
    const held: Held = [];
    const answer = (r: Reply<unknown>) => {
      if (this.gone !== 'ESHUTDOWN') {
        const handed = r.ok && isRecord(r.value) ? (r.value as { reqId?: unknown }).reqId : undefined;
        const req = tagged ?? (rec.sampled(handed) ? handed : undefined);
        const sent = req === undefined ? this.post(REPLY, f.i, r) : this.tracedAnswer(f.i, r, req, f.m.type);
        if (sent !== true) this.post(REPLY, f.i, sent);
      }
      release(held);
    };
    this.handleCall(f, held, answer, tagged);
    if (tagged !== undefined) rec.slice(tagged, `${self}: ${f.m.type} from ${peer}`, 'handler', ts);
  }

  /** Post the reply of a sampled request's call, tagged, and record it. */
  private tracedAnswer(i: number, r: Reply<unknown>, req: number, type: string): true | Reply<never> {
    const { rec, self, peer } = this.trace!;
    const flow = rec.flow();
    const ts = rec.now();
    const sent = this.post(REPLY, i, r, [req, flow]);
    if (sent === true) {
      rec.send(req, flow, self, peer, type, 'reply', ts);
      rec.slice(req, `reply ${type} to ${peer}`, 'ipc', ts);
    }
    return sent;
  }

  private handleCall(f: Extract<Frame, { k: typeof CALL | typeof SEND }>, held: Held, answer: (r: Reply<unknown>) => void, reqId?: number): void {
    if (this.opts.onCall === null) {
      this.drop({ ok: true, value: f.m });
      return answer(this.refused('ECALLDENIED'));
    }
    try {
      this.codec.decode(f.m, held);
    } catch (e) {
      if (!(e instanceof DescriptorError)) throw e;
      this.opts.counters.add('descriptorsRefused');
      return answer(this.refused('EFAULT', e.message));
    }
    const bad = this.opts.shapes ? checkCall(this.opts.shapes.server, f.m, this.opts.shapes) : null;
    if (bad) {
      this.opts.counters.add('messagesRefused');
      return answer(this.refused(bad.errno, `${this.opts.label}: ${bad.detail}`)); // a send is just dropped
    }
    let r: Reply<unknown> | Promise<Reply<unknown>>;
    try {
      r = reqId === undefined ? this.opts.onCall(f.m, held) : this.opts.onCall(f.m, held, reqId);
    } catch (e) {
      return this.opts.onCrash(e);
    }
    if (r instanceof Promise) r.then(answer, (e) => this.opts.onCrash(e));
    else answer(r);
  }

  /** No more replies will come: settle every pending call with `pendingErrno`. */
  private peerGone(pendingErrno: 'EPEERDIED' | 'ESHUTDOWN', later: 'EDEADDST' | 'ESHUTDOWN'): void {
    this.gone ??= later;
    this.sweeper.stop();
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.resolve(this.refused(pendingErrno));
  }

  /** Settle every call past its deadline with ETIMEDOUT (oldest first; receives have none). */
  private sweep(): void {
    const now = performance.now();
    let timed = 0;
    for (const [i, p] of this.pending) {
      if (p.deadline === Infinity) continue;
      if (p.deadline > now) {
        timed++;
        break;
      }
      this.pending.delete(i);
      p.resolve(this.refused('ETIMEDOUT'));
    }
    if (timed === 0) this.sweeper.stop();
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Call `f` on each field of `value` and each element of its array fields:
 * payloads sit at the top level of messages and reply values; anything else
 * (null, numbers) has nothing to visit.
 */
function eachPayloadItem(value: unknown, f: (v: unknown) => void): void {
  if (typeof value !== 'object' || value === null) return;
  for (const v of Object.values(value)) {
    if (Array.isArray(v)) v.forEach(f);
    else f(v);
  }
}

/** Payload bytes of one field or array element: a byte view's length, or the length of the pool slice a descriptor names. */
function itemBytes(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (!('pool' in v)) return 0;
  const n = (v as { length?: unknown }).length;
  return typeof n === 'number' ? n : 0;
}

/**
 * Payload bytes a message carries: the lengths of its byte views and of the
 * pool slices its descriptors name (the fields eachPayloadItem visits; written
 * out here without its closure, as it runs for every message).
 */
export function payloadBytes(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let total = 0;
  const o = value as Record<string, unknown>;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    const v = o[k];
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) total += itemBytes(v[i]);
    else total += itemBytes(v);
  }
  return total;
}

/**
 * Bytes a structured clone of `value` copies: each distinct ArrayBuffer behind a
 * byte view among its fields (or in an array field) is copied whole. Shared
 * memory and transferred buffers are not copied.
 */
export function clonedBytes(value: unknown, transferred: readonly ArrayBuffer[] = []): number {
  let total = 0;
  const seen = new Set<ArrayBufferLike>(transferred);
  eachPayloadItem(value, (v) => {
    if (!ArrayBuffer.isView(v) || v.buffer instanceof SharedArrayBuffer || seen.has(v.buffer)) return;
    seen.add(v.buffer);
    total += v.buffer.byteLength;
  });
  return total;
}
