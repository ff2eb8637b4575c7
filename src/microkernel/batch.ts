/**
 * The MessagePort side of signalling, and `openChannel`, which picks a channel
 * end for a signalling choice.
 *
 * Batching for message signalling: the frames a domain posts on one port during
 * one turn of its event loop go out as one postMessage, and the receiver handles
 * them in order from one event. postMessage and its event cost microseconds
 * each; a batch pays them once for many frames (on a busy 2-core machine most of
 * the gain of a microkernel's IPC fast path is here).
 *
 * Frames keep their order, so replies and FIFO guarantees are unchanged; only
 * their grouping depends on timing, which is why nothing counted depends on it.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Signal } from '../config.js';
import type { Counters } from '../metrics/counters.js';
import type { PortLike } from './ipc.js';
import { RingChannel, type Pump, type RingMemory, type Doorbell } from './ring.js';

interface Batch {
  b: unknown[];
}

export class BatchingPort implements PortLike {
  private frames: unknown[] = [];
  private transfer: ArrayBuffer[] = [];
  private scheduled = false;
  private closed = false;

  constructor(private readonly port: PortLike) {}

  postMessage(frame: unknown, transfer?: readonly ArrayBuffer[]): void {
    if (this.closed) return;
    this.frames.push(frame);
    if (transfer && transfer.length) this.transfer.push(...transfer);
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
    this.port.postMessage(frames.length === 1 ? frames[0] : ({ b: frames } satisfies Batch), transfer);
  };

  on(event: 'message', listener: (value: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'message' | 'close', listener: (value?: unknown) => void): unknown {
    if (event === 'close') return this.port.on('close', listener);
    return this.port.on('message', (v) => {
      if (typeof v === 'object' && v !== null && Array.isArray((v as Batch).b)) for (const f of (v as Batch).b) listener(f);
      else listener(v);
    });
  }

  close(): void {
    this.flush();
    this.closed = true;
    this.port.close();
  }
}

/**
 * Receive-side draining for message signalling: when a message event comes, the
 * messages queued behind it are taken synchronously (receiveMessageOnPort)
 * instead of one event each. Nothing waits longer; the event dispatch per
 * message is saved.
 */
export class DrainingPort implements PortLike {
  constructor(private readonly port: MessagePort) {}

  postMessage(frame: unknown, transfer?: readonly ArrayBuffer[]): void {
    this.port.postMessage(frame, transfer);
  }

  on(event: 'message', listener: (value: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'message' | 'close', listener: (value?: unknown) => void): unknown {
    if (event === 'close') return this.port.on('close', listener);
    return this.port.on('message', (v) => {
      listener(v);
      for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) listener(m.message);
    });
  }

  close(): void {
    this.port.close();
  }
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
 * with receive-side draining.
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
  return signal === 'batch' ? new BatchingPort(port) : new DrainingPort(port);
}
