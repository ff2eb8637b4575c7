/**
 * The MessagePort side of signalling, and `openChannel`, which picks a channel
 * end for a signalling choice.
 *
 * Batching for message signalling: the frames a domain posts on one port during
 * one turn of its event loop go out as one postMessage (BATCH_MAX of them at
 * most), and the receiver handles them in order from one event. postMessage and
 * its event cost microseconds each; a batch pays them once for many frames (on a
 * busy 2-core machine most of the gain of a microkernel's IPC fast path is here).
 *
 * Frames keep their order, so replies and FIFO guarantees are unchanged; only
 * their grouping depends on timing, which is why nothing counted depends on it.
 * Copies are counted per message, as if each were cloned on its own: a batch
 * clones a buffer that two of its messages share (two replies from one cached
 * block) only once, so under batching the host may copy less than counted.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Signal } from '../config.js';
import type { Counters } from '../metrics/counters.js';
import type { PortLike } from './ipc.js';
import { RingChannel, type Pump, type RingMemory, type Doorbell } from './ring.js';

/** A batch on the wire: a frame kind of its own (the Endpoint's kinds are 0..3). */
interface Batch {
  k: -1;
  b: unknown[];
}

function isBatch(v: unknown): v is Batch {
  return typeof v === 'object' && v !== null && (v as Batch).k === -1 && Array.isArray((v as Batch).b);
}

/**
 * Frames a batch holds at most: a pass that posts more sends them as it goes.
 * Unbounded, the frames of one pass (a domain answering all 64 requests it was
 * handed) went out together, so the next domain got them together and did the
 * same: a convoy, one stage running at a time. Bounded, the next stage starts
 * on the first 16 while this one is still on the rest: specweb96 with 64
 * clients, `shared:batch`, 16,300–16,700 requests/s unbounded against
 * 18,800–20,900 at 16, here (8 to 24 about the same, 8 a few per cent lower in
 * four pairs with 16; 4 lower; 64 no better than unbounded). On whole 1 MiB files
 * with 16 clients 8 was about 5% faster than 16. The ring's PUBLISH_EVERY is the
 * same bound.
 */
export const BATCH_MAX = 16;

export class BatchingPort implements PortLike {
  private frames: unknown[] = [];
  private transfer: ArrayBuffer[] = [];
  private scheduled = false;
  private closed = false;
  private undeliverable: ((frame: unknown, err: unknown) => void) | null = null;

  constructor(private readonly port: PortLike) {}

  /** Frames that cannot be cloned are only found at the flush: they are handed back here. */
  setUndeliverable(cb: (frame: unknown, err: unknown) => void): void {
    this.undeliverable = cb;
  }

  postMessage(frame: unknown, transfer?: readonly ArrayBuffer[]): void {
    if (this.closed) return;
    this.frames.push(frame);
    if (transfer && transfer.length) this.transfer.push(...transfer);
    if (this.frames.length >= BATCH_MAX) return this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed || this.frames.length === 0) return;
    const frames = this.frames;
    const transfer = this.transfer;
    this.frames = [];
    this.transfer = [];
    try {
      this.port.postMessage(frames.length === 1 ? frames[0] : ({ k: -1, b: frames } satisfies Batch), transfer);
    } catch {
      // one frame spoils the batch: send them one by one and hand back what cannot go
      for (const f of frames) {
        try {
          this.port.postMessage(f, transfer.filter((t) => refersTo(f, t)));
        } catch (e) {
          this.undeliverable?.(f, e);
        }
      }
    }
  };

  on(event: 'message', listener: (value: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'message' | 'close', listener: (value?: unknown) => void): unknown {
    if (event === 'close') return this.port.on('close', listener);
    return this.port.on('message', (v) => {
      if (isBatch(v)) for (const f of v.b) listener(f);
      else listener(v);
    });
  }

  close(): void {
    this.flush();
    this.closed = true;
    this.port.close();
  }
}

/** Does `v` (a frame, a few levels deep) hold a view of `buf`? */
function refersTo(v: unknown, buf: ArrayBuffer, depth = 4): boolean {
  if (ArrayBuffer.isView(v)) return v.buffer === buf;
  if (depth === 0 || typeof v !== 'object' || v === null) return false;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (refersTo(x, buf, depth - 1)) return true;
  return false;
}

/** Ring memory of one channel end: outbound ring, inbound ring, the peer's doorbell. */
export interface ChannelRings {
  tx: RingMemory;
  rx: RingMemory;
  peerBell: Doorbell;
}

/**
 * The channel end an Endpoint talks through, for signalling `signal`: a ring
 * channel (with the port kept only for liveness), a batching port, or the port
 * itself. (Draining a port synchronously with receiveMessageOnPort was tried:
 * it ran every queued handler before any continuation and lowered throughput.)
 */
export function openChannel(
  signal: Signal,
  port: MessagePort,
  ring: { rings: ChannelRings; pump: Pump; counters: Counters } | null,
): PortLike {
  if (signal === 'ring') {
    if (!ring) throw new Error('ring signalling needs rings and a pump');
    return new RingChannel(ring.rings.tx, ring.rings.rx, ring.rings.peerBell, port, ring.pump, ring.counters);
  }
  return signal === 'batch' ? new BatchingPort(port) : port;
}
