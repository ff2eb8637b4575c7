/**
 * Shared-memory signalling: single-producer single-consumer rings in
 * SharedArrayBuffers, one per direction of a granted channel, and a doorbell per
 * domain.
 *
 * A frame is serialised into the ring (JSON for its structure, raw bytes for its
 * payload slices) and published by one atomic store of the tail, so a producer
 * that dies mid-write leaves nothing half-visible. The consumer's Pump drains all
 * its rings on each turn (many messages per wake-up), keeps polling for
 * `spinUs` after the last message (burning a core to avoid the ~50 µs thread
 * wake-up), then sleeps on its doorbell with Atomics.waitAsync, with a timeout.
 * A producer rings the doorbell only when the consumer sleeps.
 *
 * Liveness comes from the channel's MessagePort, which the kernel keeps beside
 * the rings: its 'close' event says the peer's domain is gone.
 */
import type { Counters } from '../metrics/counters.js';
import type { PortLike } from './ipc.js';

/** The shared memory of one ring: Int32 header [head, tail] then `capacity` data bytes. */
export interface RingMemory {
  capacity: number; // a power of two, multiple of 8
  header: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** A domain's doorbell: Int32 [rings, sleeping]. */
export type Doorbell = SharedArrayBuffer;

const HEAD = 0;
const TAIL = 1;
const WRAP = 0xffffffff;
const BELL = 0;
const ASLEEP = 1;
/** Longest tight poll inside one turn of the event loop, µs. */
const SYNC_SPIN_US = 20;
/** A sleeping pump wakes at least this often to look at its rings and ports. */
const SLEEP_TIMEOUT_MS = 200;

export function newRingMemory(capacity: number): RingMemory {
  if (!Number.isInteger(capacity) || capacity < 64 || capacity > 2 ** 30 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`ring capacity must be a power of two from 64 to 2^30, got ${capacity}`);
  return { capacity, header: new SharedArrayBuffer(8), data: new SharedArrayBuffer(capacity) };
}

export function newDoorbell(): Doorbell {
  return new SharedArrayBuffer(8);
}

/** The smallest power of two >= n. */
export function pow2AtLeast(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(64, n)));
}

const align8 = (n: number) => (n + 7) & ~7;

/**
 * One end of a ring. Positions run modulo 2 × capacity, so a full ring
 * (tail − head = capacity) and an empty one (tail = head) differ.
 */
export class Ring {
  private readonly hdr: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly buf: Buffer;
  private readonly view: DataView;
  private readonly cap: number;

  constructor(mem: RingMemory) {
    this.hdr = new Int32Array(mem.header);
    this.bytes = new Uint8Array(mem.data);
    this.buf = Buffer.from(mem.data);
    this.view = new DataView(mem.data);
    this.cap = mem.capacity;
  }

  private used(head: number, tail: number): number {
    return (tail - head + 2 * this.cap) % (2 * this.cap);
  }

  isEmpty(): boolean {
    return Atomics.load(this.hdr, HEAD) === Atomics.load(this.hdr, TAIL);
  }

  /** Largest record body a ring of this size can ever take. */
  get maxRecord(): number {
    return this.cap / 2 - 8;
  }

  /**
   * Producer: write a record of `length` bytes through `fill(bytes, at)` and
   * publish it; false if there is no room now (try again after the consumer drains).
   */
  write(length: number, fill: (at: number) => void): boolean {
    const need = align8(4 + length);
    const head = Atomics.load(this.hdr, HEAD);
    let tail = Atomics.load(this.hdr, TAIL);
    const free = this.cap - this.used(head, tail);
    let at = tail & (this.cap - 1);
    const toEnd = this.cap - at;
    if (need > toEnd) {
      if (free < toEnd + need) return false;
      this.view.setUint32(at, WRAP);
      tail = (tail + toEnd) % (2 * this.cap);
      at = 0;
    } else if (free < need) {
      return false;
    }
    this.view.setUint32(at, length);
    fill(at + 4);
    Atomics.store(this.hdr, TAIL, (tail + need) % (2 * this.cap));
    return true;
  }

  /** Consumer: hand each published record to `take(at, length)`, then free it. Returns records read. */
  drain(take: (at: number, length: number) => void): number {
    let head = Atomics.load(this.hdr, HEAD);
    const tail = Atomics.load(this.hdr, TAIL);
    let n = 0;
    while (head !== tail) {
      const at = head & (this.cap - 1);
      const length = this.view.getUint32(at);
      if (length === WRAP) {
        head = (head + (this.cap - at)) % (2 * this.cap);
        continue;
      }
      take(at + 4, length);
      head = (head + align8(4 + length)) % (2 * this.cap);
      Atomics.store(this.hdr, HEAD, head); // free each record as soon as it is read
      n++;
    }
    Atomics.store(this.hdr, HEAD, head);
    return n;
  }

  get data(): { bytes: Uint8Array; buf: Buffer; view: DataView } {
    return { bytes: this.bytes, buf: this.buf, view: this.view };
  }
}

/** Ring `bell`: a record is waiting; wake the domain if it sleeps. */
export function ring(bell: Int32Array): void {
  Atomics.add(bell, BELL, 1);
  if (Atomics.load(bell, ASLEEP) === 1) Atomics.notify(bell, BELL);
}

/**
 * A domain's receive loop over all its inbound rings. Each turn drains every
 * ring and flushes every channel's queued output; it spins (polls on
 * setImmediate, so promise continuations and other events still run) for
 * `spinUs` after the last work, then sleeps on the doorbell.
 */
export class Pump {
  private readonly bell: Int32Array;
  private readonly channels = new Set<RingChannel>();
  private scheduled = false;
  private sleeping = false;
  private stopped = false;
  private lastWork = 0;

  constructor(
    bell: Doorbell,
    private readonly spinUs: number,
  ) {
    this.bell = new Int32Array(bell);
  }

  add(ch: RingChannel): void {
    this.channels.add(ch);
    this.kick();
  }

  remove(ch: RingChannel): void {
    this.channels.delete(ch);
  }

  /** Something happened locally (output queued): make sure a turn comes. */
  kick(): void {
    this.lastWork = performance.now();
    if (this.scheduled || this.sleeping || this.stopped) {
      if (this.sleeping) ring(this.bell); // wake our own waitAsync
      return;
    }
    this.scheduled = true;
    setImmediate(this.turn);
  }

  stop(): void {
    this.stopped = true;
    ring(this.bell);
  }

  private readonly turn = (): void => {
    this.scheduled = false;
    if (this.stopped) return;
    let work = 0;
    let backlog = false;
    for (const ch of this.channels) {
      work += ch.service();
      backlog ||= ch.hasBacklog();
    }
    let now = performance.now();
    if (work > 0) this.lastWork = now;
    else if (!backlog && (now - this.lastWork) * 1000 < this.spinUs) {
      // nothing came this turn and the microtasks have run: poll tightly for a
      // short slice before yielding again (a turn of the event loop costs µs)
      const until = now + Math.min(this.spinUs, SYNC_SPIN_US) / 1000;
      while (now < until && work === 0) {
        for (const ch of this.channels) if (!ch.idle()) work += ch.service();
        now = performance.now();
      }
      if (work > 0) this.lastWork = now;
    }
    if (work > 0 || backlog || (now - this.lastWork) * 1000 < this.spinUs) {
      this.scheduled = true;
      setImmediate(this.turn);
      return;
    }
    this.sleep();
  };

  private sleep(): void {
    const seen = Atomics.load(this.bell, BELL);
    Atomics.store(this.bell, ASLEEP, 1);
    for (const ch of this.channels) {
      if (!ch.idle()) return this.wake();
    }
    this.sleeping = true;
    const w = Atomics.waitAsync(this.bell, BELL, seen, SLEEP_TIMEOUT_MS);
    if (w.async) w.value.then(this.wake);
    else this.wake();
  }

  private readonly wake = (): void => {
    Atomics.store(this.bell, ASLEEP, 0);
    this.sleeping = false;
    if (this.stopped || this.scheduled) return;
    this.lastWork = performance.now();
    this.scheduled = true;
    setImmediate(this.turn);
  };
}

type Frame = Record<string, unknown>;

/**
 * A channel end over two rings, shaped like a MessagePort for the Endpoint.
 * Frames are serialised as [u32 json bytes][json][per slice: u32 length, bytes]:
 * slices are replaced by {$b: index} in the JSON. Both the copy into the ring
 * and the copy out of it are real copies, and are counted.
 */
export class RingChannel implements PortLike {
  private readonly tx: Ring;
  private readonly rx: Ring;
  private readonly peerBell: Int32Array;
  private readonly queue: Record_[] = [];
  private onMessage: ((f: unknown) => void) | null = null;
  private closed = false;
  /** This channel counts its own copies (into and out of the rings). */
  readonly countsCopies = true;

  constructor(
    tx: RingMemory,
    rx: RingMemory,
    peerBell: Doorbell,
    private readonly liveness: PortLike,
    private readonly loop: Pump,
    private readonly counters: Counters,
  ) {
    this.tx = new Ring(tx);
    this.rx = new Ring(rx);
    this.peerBell = new Int32Array(peerBell);
    // listening keeps the port, and so the domain, alive while the channel is open
    liveness.on('message', () => {});
    loop.add(this);
  }

  /** Serialise and send `frame`, or queue it while the ring is full; throws (sending nothing) if it can never fit. */
  postMessage(frame: unknown, transfer?: readonly ArrayBuffer[]): void {
    if (transfer && transfer.length) throw new TypeError('ring signalling cannot transfer buffers; use --signal message');
    if (this.closed) return;
    const rec = serialise(frame as Frame);
    if (rec.length > this.tx.maxRecord) {
      throw new RangeError(`message of ${rec.length} bytes does not fit a ring of ${this.tx.maxRecord * 2 + 16} bytes`);
    }
    if (this.queue.length > 0 || !this.write(rec)) {
      this.queue.push(rec);
      this.loop.kick();
    }
  }

  on(event: 'message', listener: (value: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'message' | 'close', listener: (value?: unknown) => void): unknown {
    if (event === 'message') this.onMessage = listener;
    else
      this.liveness.on('close', () => {
        this.service(); // what the peer wrote before it went is still delivered
        this.closed = true;
        this.loop.remove(this);
        listener();
      });
    return this;
  }

  close(): void {
    this.closed = true;
    this.loop.remove(this);
    this.liveness.close();
  }

  /** One pump turn for this channel: flush queued output, deliver input. Returns frames delivered. */
  service(): number {
    while (this.queue.length > 0 && this.write(this.queue[0])) this.queue.shift();
    if (this.closed || !this.onMessage) return 0;
    const deliver = this.onMessage;
    const { buf, bytes, view } = this.rx.data;
    return this.rx.drain((at, length) => {
      const jsonLen = view.getUint32(at);
      const frame = JSON.parse(buf.toString('utf8', at + 4, at + 4 + jsonLen)) as Frame;
      let pos = at + 4 + jsonLen;
      const slices: Uint8Array[] = [];
      while (pos < at + length) {
        const n = view.getUint32(pos);
        slices.push(bytes.slice(pos + 4, pos + 4 + n)); // copy out: the ring space is reused
        this.counters.add('bytesCopied', n);
        pos += 4 + n;
      }
      deliver(slices.length ? restoreSlices(frame, slices) : frame);
    });
  }

  hasBacklog(): boolean {
    return this.queue.length > 0;
  }

  idle(): boolean {
    return this.queue.length === 0 && (this.closed || this.rx.isEmpty());
  }

  /** Write a serialised record into the tx ring; false if there is no room now. */
  private write(rec: Record_): boolean {
    const { buf, bytes, view } = this.tx.data;
    const ok = this.tx.write(rec.length, (at) => {
      view.setUint32(at, rec.jsonLen);
      buf.write(rec.json, at + 4, rec.jsonLen, 'utf8');
      let pos = at + 4 + rec.jsonLen;
      for (const s of rec.slices) {
        view.setUint32(pos, s.length);
        bytes.set(s, pos + 4);
        this.counters.add('bytesCopied', s.length);
        pos += 4 + s.length;
      }
    });
    if (ok) ring(this.peerBell);
    return ok;
  }
}

/** A frame ready for a ring: its JSON and its payload slices, and the record's length. */
interface Record_ {
  json: string;
  jsonLen: number;
  slices: Uint8Array[];
  length: number;
}

function serialise(frame: Frame): Record_ {
  const slices: Uint8Array[] = [];
  const json = JSON.stringify(extractSlices(frame, slices));
  const jsonLen = Buffer.byteLength(json);
  return { json, jsonLen, slices, length: 4 + jsonLen + slices.reduce((n, s) => n + 4 + s.length, 0) };
}

/** The part of a frame that carries payload fields: a message, or a reply's value. */
function body(frame: Frame): Record<string, unknown> | null {
  const m = frame.m ?? (frame.r as { value?: unknown } | undefined)?.value;
  return typeof m === 'object' && m !== null && !(m instanceof Uint8Array) ? (m as Record<string, unknown>) : null;
}

/**
 * `frame` with each payload field's slices moved to `slices` and replaced by
 * their indexes; the names of those fields go in `$s`. Only the body's top-level
 * arrays of byte views are payload (as everywhere in the IPC).
 */
function extractSlices(frame: Frame, slices: Uint8Array[]): Frame {
  const m = body(frame);
  if (!m) return frame;
  let out: Record<string, unknown> | null = null;
  const fields: string[] = [];
  for (const k in m) {
    const v = m[k];
    if (!Array.isArray(v) || !v.some((x) => x instanceof Uint8Array)) continue;
    out ??= { ...m };
    fields.push(k);
    out[k] = v.map((x) => (x instanceof Uint8Array ? slices.push(x) - 1 : x));
  }
  if (!out) return frame;
  const f: Frame = frame.m ? { ...frame, m: out } : { ...frame, r: { ...(frame.r as object), value: out } };
  f.$s = fields;
  return f;
}

/** Undo extractSlices on a parsed frame: indexes in the `$s` fields become the slices. */
function restoreSlices(frame: Frame, slices: Uint8Array[]): Frame {
  const m = body(frame);
  const fields = frame.$s;
  if (!m || !Array.isArray(fields)) return frame;
  for (const k of fields) {
    const v = m[k];
    if (Array.isArray(v)) m[k] = v.map((x) => (typeof x === 'number' ? slices[x] : x));
  }
  delete frame.$s;
  return frame;
}
