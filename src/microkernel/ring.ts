/**
 * Shared-memory signalling: single-producer single-consumer rings in
 * SharedArrayBuffers, one per direction of a granted channel, and a doorbell per
 * domain.
 *
 * A frame is written into the ring in a small binary encoding (frame-codec.ts:
 * tagged fields, payload bytes inline), and the frames of one pass are
 * published together by one atomic store of the tail, so a producer that dies
 * mid-write leaves nothing half-visible. The consumer's Pump drains all its
 * rings on each turn (many messages per wake-up), keeps polling for `spinUs`
 * after the last message (burning a core to avoid the ~50 µs thread wake-up),
 * then sleeps on its doorbell with Atomics.waitAsync, with a timeout, and on a
 * wake-up drains at once. A producer rings the doorbell once per publication,
 * and notifies only a domain that sleeps: the first producer to claim its
 * sleep flag does.
 *
 * Liveness comes from the channel's MessagePort, which the kernel keeps beside
 * the rings: its 'close' event says the peer's domain is gone.
 */
import type { Counters } from '../metrics/counters.js';
import type { PortLike } from './ipc.js';
import { encodedSize, encodedSizeBound, FRAME_OVERFLOW, FrameReader, FrameWriter } from './frame-codec.js';

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
  /** The producer's tail: past what it has written (published or not); -1 until it first writes. */
  private tail = -1;

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
   * Producer: write a record of at most `length` bytes through `fill(at)`,
   * which may return how many it wrote (else `length` is taken); false if
   * there is no room now (try again after the consumer drains). With `later`
   * the record is not visible to the consumer until `publish()`, so that the
   * records of one pass are published together, with one atomic store of the tail.
   */
  write(length: number, fill: (at: number) => unknown, later = false): boolean {
    let need = align8(4 + length);
    const head = Atomics.load(this.hdr, HEAD);
    let tail = this.tail < 0 ? Atomics.load(this.hdr, TAIL) : this.tail;
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
    // `length` may be a bound: fill says how many bytes it wrote, and only those are kept
    const wrote = fill(at + 4);
    const actual = typeof wrote === 'number' ? wrote : length;
    this.view.setUint32(at, actual);
    need = align8(4 + actual);
    this.tail = (tail + need) % (2 * this.cap);
    if (!later) Atomics.store(this.hdr, TAIL, this.tail);
    return true;
  }

  /**
   * Producer: write a record into the room that is free now from the tail, in
   * one piece (no wrap), through `fill(at, end)`, which writes no byte at or past
   * `end` and returns how many it wrote; false, with nothing written, if there
   * is no room at all. What `fill` throws goes to the caller, and nothing of the
   * record is kept. With `later`, as in write().
   */
  writeInRoom(fill: (at: number, end: number) => number, later = false): boolean {
    const head = Atomics.load(this.hdr, HEAD);
    const tail = this.tail < 0 ? Atomics.load(this.hdr, TAIL) : this.tail;
    const at = tail & (this.cap - 1);
    const room = Math.min(this.cap - this.used(head, tail), this.cap - at);
    // the record's length word, and up to 7 bytes of padding to the next 8, must fit too
    const body = Math.min(room - 4 - 7, this.maxRecord);
    if (body <= 0) return false;
    const wrote = fill(at + 4, at + 4 + body);
    this.view.setUint32(at, wrote);
    this.tail = (tail + align8(4 + wrote)) % (2 * this.cap);
    if (!later) Atomics.store(this.hdr, TAIL, this.tail);
    return true;
  }

  /** Producer: make every record written so far visible; true if there were any. */
  publish(): boolean {
    if (this.tail < 0 || this.tail === Atomics.load(this.hdr, TAIL)) return false;
    Atomics.store(this.hdr, TAIL, this.tail);
    return true;
  }

  /** Producer: records written and not yet published. */
  get unpublished(): boolean {
    return this.tail >= 0 && this.tail !== Atomics.load(this.hdr, TAIL);
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

/**
 * Ring `bell`: a record is waiting; wake the domain if it sleeps. The sleep
 * flag is claimed with a compare-and-exchange, so of all the producers ringing
 * a sleeping domain only one pays for the notify (a futex wake).
 */
export function ring(bell: Int32Array): void {
  Atomics.add(bell, BELL, 1);
  if (Atomics.load(bell, ASLEEP) === 1 && Atomics.compareExchange(bell, ASLEEP, 1, 0) === 1) {
    pumpCounts.notifies++;
    Atomics.notify(bell, BELL);
  }
}

/**
 * What this thread's ring signalling did, host-measured and timing-dependent (so
 * never among the counters): pump turns, sleeps on its doorbell, and notifies of a
 * sleeping domain's doorbell (its own or a peer's: a thread that wakes another pays
 * for the futex wake-up).
 */
export interface PumpCounts {
  turns: number;
  sleeps: number;
  notifies: number;
}

/** This thread's counts (a domain is one thread, with its own copy of this module). */
export const pumpCounts: PumpCounts = { turns: 0, sleeps: 0, notifies: 0 };

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
    pumpCounts.turns++;
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
    pumpCounts.sleeps++;
    const w = Atomics.waitAsync(this.bell, BELL, seen, SLEEP_TIMEOUT_MS);
    if (w.async) w.value.then(this.wake);
    else this.wake();
  }

  private readonly wake = (): void => {
    Atomics.store(this.bell, ASLEEP, 0);
    this.sleeping = false;
    if (this.stopped || this.scheduled) return;
    this.lastWork = performance.now();
    // woken: drain now, not a turn of the event loop later (a microtask: what
    // the turn throws is an uncaught exception, as from setImmediate, not a rejection)
    this.scheduled = true;
    queueMicrotask(this.turn);
  };
}

/** A frame that waits for room in the ring, already encoded (its bytes as they were when it was posted). */
interface Queued {
  bytes: Uint8Array;
  payloadBytes: number;
}

/** Frames written before the channel publishes them and rings the peer: a pass's worth, at most. */
const PUBLISH_EVERY = 16;

/**
 * A channel end over two rings, shaped like a MessagePort for the Endpoint.
 * Frames are written into the ring in the binary encoding of frame-codec.ts.
 * What one pass of the event loop writes is published together (at the end of
 * the pass, in a microtask, or every PUBLISH_EVERY frames) with one store of
 * the tail and at most one doorbell. Both the copy of a payload's bytes into
 * the ring and the copy out of it are real copies, and are counted.
 */
export class RingChannel implements PortLike {
  private readonly tx: Ring;
  private readonly rx: Ring;
  private readonly peerBell: Int32Array;
  private readonly writer: FrameWriter;
  private readonly reader: FrameReader;
  private readonly queue: Queued[] = [];
  private onMessage: ((f: unknown) => void) | null = null;
  private closed = false;
  private written = 0;
  private flushing = false;
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
    const t = this.tx.data;
    this.writer = new FrameWriter(t.bytes, t.view, t.buf);
    const r = this.rx.data;
    this.reader = new FrameReader(r.bytes, r.view, r.buf);
    // listening keeps the port, and so the domain, alive while the channel is open
    liveness.on('message', () => {});
    loop.add(this);
  }

  /** Encode and send `frame`, or queue it while the ring is full; throws (sending nothing) if it cannot be encoded or can never fit. */
  postMessage(frame: unknown, transfer?: readonly ArrayBuffer[]): void {
    if (transfer && transfer.length) throw new TypeError('ring signalling cannot transfer buffers; use --signal message');
    if (this.closed) return;
    // most frames fit the room the ring has from its tail: written there at once, without sizing them first
    if (this.queue.length === 0) {
      try {
        if (this.tx.writeInRoom((at, end) => this.writer.write(frame, at, end), true)) {
          this.counters.add('bytesCopied', this.writer.payloadBytes);
          this.wrote();
          return;
        }
      } catch (e) {
        if (e !== FRAME_OVERFLOW) throw e;
      }
    }
    // else room is reserved for a bound on the frame's size (found without reading its strings)
    let length = encodedSizeBound(frame);
    if (length > this.tx.maxRecord) {
      length = encodedSize(frame);
      if (length > this.tx.maxRecord) throw new RangeError(`message of ${length} bytes does not fit a ring of ${this.tx.maxRecord * 2 + 16} bytes`);
    }
    if (this.queue.length === 0 && this.tx.write(length, (at) => this.writer.write(frame, at), true)) {
      this.counters.add('bytesCopied', this.writer.payloadBytes);
      this.wrote();
      return;
    }
    // no room: keep the frame's bytes as they are now, for the ring once the peer drains it
    const scratch = new Uint8Array(length);
    const w = new FrameWriter(scratch, new DataView(scratch.buffer), Buffer.from(scratch.buffer));
    const n = w.write(frame, 0);
    this.queue.push({ bytes: scratch.subarray(0, n), payloadBytes: w.payloadBytes });
    this.loop.kick();
  }

  /** A frame is in the ring: publish at the end of this pass, or now if the pass has written many. */
  private wrote(): void {
    if (++this.written >= PUBLISH_EVERY) return this.publish();
    if (!this.flushing) {
      this.flushing = true;
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushing = false;
    this.publish();
  };

  /** Make what was written visible to the peer, and ring its doorbell once. */
  private publish(): void {
    this.written = 0;
    if (this.tx.publish()) ring(this.peerBell);
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
    this.publish(); // what was posted before the close still goes
    this.closed = true;
    this.loop.remove(this);
    this.liveness.close();
  }

  /** One pump turn for this channel: flush queued output, deliver input. Returns frames delivered. */
  service(): number {
    if (this.queue.length > 0) {
      while (this.queue.length > 0 && this.writeQueued(this.queue[0])) this.queue.shift();
      this.publish();
    }
    if (this.closed || !this.onMessage) return 0;
    const deliver = this.onMessage;
    const reader = this.reader;
    return this.rx.drain((at) => {
      const frame = reader.read(at);
      this.counters.add('bytesCopied', reader.payloadBytes);
      deliver(frame);
    });
  }

  hasBacklog(): boolean {
    return this.queue.length > 0;
  }

  idle(): boolean {
    return this.queue.length === 0 && (this.closed || this.rx.isEmpty());
  }

  /** Write a queued frame's bytes into the tx ring; false if there is no room yet. */
  private writeQueued(q: Queued): boolean {
    const { bytes } = this.tx.data;
    if (!this.tx.write(q.bytes.length, (at) => bytes.set(q.bytes, at), true)) return false;
    this.counters.add('bytesCopied', q.payloadBytes);
    return true;
  }
}
