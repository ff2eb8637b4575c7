/**
 * The link between the wire's clients and the net server's NIC.
 *
 * The clients are other machines: they run outside every fault domain (in the
 * harness's thread), so they outlive a net server that dies, see its
 * connections reset, and reconnect to its next incarnation. The NIC is a
 * device the kernel hands to the net server in the net server's own domain
 * (`NicDevice`): it takes requests off the link, hands them to net (NET_RECV),
 * and puts each response's digest hash back on the link, computed as the
 * frames leave (a CRC, as a NIC computes a frame check sequence). What crosses
 * the link is device traffic, not IPC: nothing here is counted as a message.
 *
 * Both ends batch what they post in one turn into one postMessage.
 */
import { crc32 } from 'node:zlib';
import type { Msg, Reply } from '../protocol.js';
import { eachRun, type Frame, type NetDevice } from '../servers/net.js';
import { BatchingPort } from '../microkernel/batch.js';
import type { PortLike } from '../microkernel/ipc.js';
import { Sweeper } from '../microkernel/sweeper.js';
import type { KernelConfig } from '../config.js';
import type { Registers } from './registers.js';
import type { TraceRecorder } from '../trace/recorder.js';

type LinkFrame =
  | { k: 'req'; id: number; line: string; body?: Uint8Array[]; t?: number }
  | { k: 'close' }
  | { k: 'done'; id: number; r: Reply<{ status: number }>; hash?: number }
  | { k: 'closed' };

/**
 * The hash of one response, as the digest folds it: CRC-32 over the request id and
 * status, then over every segment of every frame in order. Runs that lie end to end
 * in one buffer (a file's blocks cut into frames) are hashed together, a page at a
 * time (crcRun): the CRC of a concatenation is the CRC carried through its parts, so
 * the hash is the same, at a third less time per MiB than a call per 1,460-byte
 * segment. Frames are read as runs of the response's slices (eachRun), without views.
 */
export function responseHash(reqId: number, status: number, frames: Frame[]): number {
  let h = crc32(`${reqId} ${status}`);
  let run: Uint8Array | null = null; // the runs so far that lie end to end: run[from, end)
  let from = 0;
  let end = 0;
  const visit = (s: Uint8Array, a: number, b: number): void => {
    // the next run of the same slice (the frames of one slice), or of another view that
    // starts in the same buffer where the run so far ends (a file's next pool block)
    // (carried on in `run`'s terms: its buffer, from its own offset)
    if (run !== null && (s === run ? a === end : s.buffer === run.buffer && s.byteOffset + a === run.byteOffset + end)) {
      end += b - a;
      return;
    }
    if (run !== null) h = crcRun(run, from, end, h);
    run = s;
    from = a;
    end = b;
  };
  // (runs are never empty: zlib's crc32 of an empty view with no memory behind it returns
  // its initial value, 0, not the CRC carried in)
  for (const f of frames) eachRun(f, visit);
  if (run !== null) h = crcRun(run, from, end, h);
  return h;
}

/** Bytes zlib's crc32 is given at a time: one 4 KiB page of the buffer (see crcRun). */
const CRC_PAGE = 4096;

/**
 * `h` carried through the CRC-32 of `s[from, to)`, one call per page of its buffer.
 * The same CRC as one call over the whole run; but on bytes not in this core's
 * cache (a response of 1 MiB out of a cache of many of them) zlib's crc32 took
 * about twice as long in calls of 16 KiB or more as in calls of 4 KiB. A scratch
 * benchmark hashing 32 files of 1 MiB in turn, three sweeps, µs per MiB: one call
 * 443–487, 64 KiB 453–518, 16 KiB 388–466, 8 KiB 243–356, 4 KiB 222–248, 2 KiB
 * 240–342, 1 KiB 331–411 (where a piece starts in its page made no difference). On
 * bytes in the cache a call a page costs about a tenth more than one call.
 */
function crcRun(s: Uint8Array, from: number, to: number, h: number): number {
  const base = s.byteOffset;
  for (let a = from; a < to; ) {
    // the end of the page `a` is in (arithmetic, not a mask: a pool may be larger than 2 GiB)
    const b = Math.min(to, a + CRC_PAGE - ((base + a) % CRC_PAGE));
    h = crc32(view(s, a, b), h);
    a = b;
  }
  return h;
}

/** `s[from, to)`, as a view that may reach past `s`'s own end into its buffer (a run carried on across views). */
function view(s: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(s.buffer, s.byteOffset + from, to - from);
}

/**
 * How the device hands the wire's messages to the net server in its domain;
 * `flow`: a traced request's flow id, as the wire tagged it (tracing only).
 */
export type DeviceDeliver = (msg: Msg<'net', 'NET_RECV'> | Msg<'net', 'NET_CLOSE'>, flow?: number) => Reply<unknown> | Promise<Reply<unknown>>;

/** A wire device in net's domain: net transmits through it, and it delivers what comes off the wire. */
export interface WireDevice extends NetDevice {
  attach(deliver: DeviceDeliver): void;
}

/**
 * The harness's end of the link to net's device, as a kernel sees it: a new
 * incarnation of net attaches its end; the system going down fails it; at
 * shutdown the kernel lets go of it.
 */
export interface DeviceLink {
  attach(port: PortLike): void;
  fail(): void;
  detach(): void;
}

/**
 * The device the kernel hands net, over the link end `port`: the NIC of the
 * simulated wire, or with `cfg.serve` a socket serving real HTTP clients
 * (loaded only then).
 */
export async function openDevice(port: PortLike, cfg: KernelConfig, regs: Registers): Promise<WireDevice> {
  if (!cfg.serve) return new NicDevice(port);
  const { openSocketDevice } = await import('./socket.js');
  return openSocketDevice(port, cfg.serve, regs);
}

/** The NIC, in net's domain: one link end. */
export class NicDevice implements WireDevice {
  private readonly port: PortLike;
  private readonly hashes = new Map<number, number>();
  private deliver: DeviceDeliver | null = null;

  constructor(port: PortLike) {
    this.port = new BatchingPort(port);
  }

  /** Start taking requests off the link, into `deliver`. */
  attach(deliver: DeviceDeliver): void {
    this.deliver = deliver;
    this.port.on('message', (v) => this.receive(v as LinkFrame));
  }

  /** NetDevice: a response's frames leave; hash them now, while their bytes are valid. */
  transmit(reqId: number, status: number, frames: Frame[]): void {
    this.hashes.set(reqId, responseHash(reqId, status, frames));
  }

  private receive(f: LinkFrame): void {
    const deliver = this.deliver!;
    if (f.k === 'close') {
      void Promise.resolve(deliver({ type: 'NET_CLOSE' })).then(() => this.port.postMessage({ k: 'closed' } satisfies LinkFrame));
      return;
    }
    if (f.k !== 'req') return;
    const msg: Msg<'net', 'NET_RECV'> = f.body ? { type: 'NET_RECV', reqId: f.id, request: f.line, body: f.body } : { type: 'NET_RECV', reqId: f.id, request: f.line };
    void Promise.resolve(f.t === undefined ? deliver(msg) : deliver(msg, f.t)).then((r) => {
      const hash = this.hashes.get(f.id);
      this.hashes.delete(f.id);
      const frame: LinkFrame = hash === undefined ? { k: 'done', id: f.id, r: r as Reply<{ status: number }> } : { k: 'done', id: f.id, r: r as Reply<{ status: number }>, hash };
      this.port.postMessage(frame);
    });
  }
}

/** What the clients hear of a request: the reply, and the response's hash if one reached them. */
export interface LinkAnswer {
  r: Reply<{ status: number }>;
  hash?: number;
}

interface Waiting {
  id: number;
  /** A read sent again after a reset. */
  again: boolean;
  line: string;
  body?: Uint8Array;
  deadline: number;
  resolve: (a: LinkAnswer) => void;
  /** Traced: when it was sent (epoch µs). */
  sentAt?: number;
}

/** The clients' end of the link, in the harness. It survives the net server's restarts. */
export class WireLink implements DeviceLink {
  private port: PortLike | null = null;
  private state: 'down' | 'up' | 'failed' = 'down';
  private readonly pending = new Map<number, Waiting>(); // sent on the current link
  private queued: Waiting[] = []; // waiting for a link
  private closing: (() => void) | null = null;
  private readonly sweeper: Sweeper;
  /** Requests whose connection went down with a net server. */
  resets = 0;
  /** Traces the sampled requests (only when asked for). */
  private tracer: TraceRecorder | null = null;

  constructor(private readonly timeoutMs: number) {
    this.sweeper = new Sweeper(timeoutMs, () => this.sweep());
  }

  /** Trace the sampled requests into `rec`: each one sent, and the wait for its response. */
  trace(rec: TraceRecorder): void {
    this.tracer = rec;
  }

  /** A link to (an incarnation of) the net server's NIC. Requests queued meanwhile go out now. */
  attach(raw: PortLike): void {
    if (this.state === 'failed') {
      raw.close();
      return;
    }
    const port = new BatchingPort(raw);
    this.port = port;
    this.state = 'up';
    port.on('message', (v) => this.receive(v as LinkFrame));
    port.on('close', () => this.lost(port));
    const queued = this.queued;
    this.queued = [];
    for (const w of queued) this.post(w);
  }

  /** Nothing will serve requests again (a panic, or the supervisor gave up on net). */
  fail(): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.port = null;
    this.resetPending('ESHUTDOWN', 'the system went down');
    // a request sent again after a reset keeps the unknown outcome of its first try
    for (const w of this.queued.splice(0)) {
      w.resolve({ r: w.again ? { ok: false, errno: 'ESHUTDOWN', detail: 'the system went down' } : { ok: false, errno: 'ECONNREFUSED', detail: 'the system is down' } });
    }
    this.closing?.();
    this.sweeper.stop();
  }

  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Send one request; resolves with what reached the client, never rejects. */
  send(id: number, line: string, body?: Uint8Array, again = false): Promise<LinkAnswer> {
    if (this.state === 'failed') {
      return Promise.resolve({ r: again ? { ok: false, errno: 'ESHUTDOWN', detail: 'the system went down' } : { ok: false, errno: 'ECONNREFUSED', detail: 'the system is down' } });
    }
    return new Promise((resolve) => {
      const deadline = performance.now() + this.timeoutMs;
      const w: Waiting = body ? { id, again, line, body, deadline, resolve } : { id, again, line, deadline, resolve };
      if (this.state === 'up') this.post(w);
      else this.queued.push(w);
      this.sweeper.start();
    });
  }

  /**
   * The clients are done: tell net the wire closed (its receives end) and
   * wait until it has, or until there is no net to tell.
   */
  close(): Promise<void> {
    this.sweeper.stop();
    if (this.state !== 'up' || !this.port) return Promise.resolve();
    return new Promise((res) => {
      this.closing = () => {
        this.closing = null;
        res();
      };
      this.port!.postMessage({ k: 'close' } satisfies LinkFrame);
    });
  }

  /** Stop using the link (the kernel is shutting down). */
  detach(): void {
    this.sweeper.stop();
    this.port?.close();
    this.port = null;
    this.state = this.state === 'failed' ? 'failed' : 'down';
  }

  private post(w: Waiting): void {
    this.pending.set(w.id, w);
    if (this.tracer?.sampled(w.id)) return this.tracedPost(w, this.tracer);
    this.port!.postMessage(w.body ? ({ k: 'req', id: w.id, line: w.line, body: [w.body] } satisfies LinkFrame) : ({ k: 'req', id: w.id, line: w.line } satisfies LinkFrame));
  }

  /** Post a sampled request, tagged with a flow id, and record it. */
  private tracedPost(w: Waiting, rec: TraceRecorder): void {
    const t = rec.flow();
    const ts = rec.now();
    w.sentAt = ts;
    this.port!.postMessage(w.body ? ({ k: 'req', id: w.id, line: w.line, body: [w.body], t } satisfies LinkFrame) : ({ k: 'req', id: w.id, line: w.line, t } satisfies LinkFrame));
    rec.send(w.id, t, 'wire', 'net', 'NET_RECV', 'call', ts, w.line);
  }

  private receive(f: LinkFrame): void {
    if (f.k === 'closed') return this.closing?.();
    if (f.k !== 'done') return;
    const w = this.pending.get(f.id);
    if (!w) return;
    this.pending.delete(f.id);
    if (w.sentAt !== undefined) this.tracer?.span(w.id, `request ${w.id}: ${w.line}`, 'request', w.sentAt);
    w.resolve(f.hash === undefined ? { r: f.r } : { r: f.r, hash: f.hash });
  }

  /** The NIC's end closed: net died. Its connections are reset; later requests wait for the next incarnation. */
  private lost(port: PortLike): void {
    if (port !== this.port) return;
    this.port = null;
    if (this.state === 'up') this.state = 'down';
    this.resetPending('ECONNRESET', 'the net server died with the connection');
    this.closing?.();
  }

  private resetPending(errno: 'ECONNRESET' | 'ESHUTDOWN', detail: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.resets += all.length;
    for (const w of all) w.resolve({ r: { ok: false, errno, detail } });
  }

  /** A request past its deadline ends with an unknown outcome (the client gave up waiting). */
  private sweep(): void {
    const now = performance.now();
    for (const [id, w] of this.pending) {
      if (w.deadline > now) continue;
      this.pending.delete(id);
      w.resolve({ r: { ok: false, errno: 'ETIMEDOUT', detail: 'no response before the deadline' } });
    }
    this.queued = this.queued.filter((w) => {
      if (w.deadline > now) return true;
      w.resolve({ r: { ok: false, errno: 'ETIMEDOUT', detail: 'no net server to connect to before the deadline' } });
      return false;
    });
  }
}
