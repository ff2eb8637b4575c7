/**
 * An IO-Lite-style shared buffer pool: fixed-size slots in one SharedArrayBuffer
 * that every domain maps, with a generation and a reference count per slot in a
 * second, small SharedArrayBuffer.
 *
 * A payload slice that lies in the pool crosses domains as a descriptor
 * (pool, slot, offset, length, generation) instead of bytes. The sender pins the
 * slot (ref + 1) before posting; the receiver checks the descriptor — slot in
 * range, slice inside the slot, generation current, slot pinned — and maps it as
 * a view, or refuses it without reading a byte; it unpins when done. The owner
 * (the disk's buffer cache) reuses a slot only when nobody pins it, and bumps its
 * generation on every reuse, so an old descriptor can never read new bytes.
 */
import type { BlockAllocator } from '../servers/server.js';

export interface PoolMemory {
  id: number;
  slotBytes: number;
  slots: number;
  data: SharedArrayBuffer;
  /** Int32 pairs per slot: [generation, references]. */
  meta: SharedArrayBuffer;
}

/** A slice of a pool slot, as it travels in a message. */
export interface Descriptor {
  pool: number;
  slot: number;
  offset: number;
  length: number;
  gen: number;
}

export function newPoolMemory(id: number, slots: number, slotBytes: number): PoolMemory {
  return {
    id,
    slotBytes,
    slots,
    data: new SharedArrayBuffer(slots * slotBytes),
    meta: new SharedArrayBuffer(slots * 8),
  };
}

export class DescriptorError extends Error {}

/** One domain's mapping of a pool. */
export class PoolMapping {
  private readonly meta: Int32Array;

  constructor(readonly mem: PoolMemory) {
    this.meta = new Int32Array(mem.meta);
  }

  /** The descriptor of `view` if it lies inside one slot of this pool, else null. */
  describe(view: Uint8Array): Descriptor | null {
    if (view.buffer !== this.mem.data) return null;
    const { slotBytes } = this.mem;
    const slot = Math.floor(view.byteOffset / slotBytes);
    if (slot >= this.mem.slots) return null; // an empty view at the very end
    const offset = view.byteOffset - slot * slotBytes;
    if (offset + view.length > slotBytes) return null; // spans slots: not a slice of one buffer
    return { pool: this.mem.id, slot, offset, length: view.length, gen: Atomics.load(this.meta, slot * 2) };
  }

  pin(slot: number): void {
    Atomics.add(this.meta, slot * 2 + 1, 1);
  }

  unpin(slot: number): void {
    if (Atomics.sub(this.meta, slot * 2 + 1, 1) <= 0) {
      Atomics.add(this.meta, slot * 2 + 1, 1);
      throw new DescriptorError(`pool ${this.mem.id} slot ${slot} unpinned more often than pinned`);
    }
  }

  refs(slot: number): number {
    return Atomics.load(this.meta, slot * 2 + 1);
  }

  generation(slot: number): number {
    return Atomics.load(this.meta, slot * 2);
  }

  /** A view of the slice `d` names; throws DescriptorError, reading nothing, if `d` is stale or forged. */
  resolve(d: Descriptor): Uint8Array {
    const { slots, slotBytes } = this.mem;
    const int = Number.isInteger;
    if (!d || d.pool !== this.mem.id || !int(d.slot) || d.slot < 0 || d.slot >= slots) {
      throw new DescriptorError('descriptor names no slot of this pool');
    }
    if (!int(d.offset) || !int(d.length) || d.offset < 0 || d.length < 0 || d.offset + d.length > slotBytes) {
      throw new DescriptorError(`descriptor slice ${d.offset}+${d.length} lies outside its ${slotBytes}-byte slot`);
    }
    if (d.gen !== this.generation(d.slot)) throw new DescriptorError(`stale descriptor: slot ${d.slot} was reused`);
    if (this.refs(d.slot) <= 0) throw new DescriptorError(`descriptor for unpinned slot ${d.slot}`);
    return new Uint8Array(this.mem.data, d.slot * slotBytes + d.offset, d.length);
  }

  /** Owner side: a view of a whole slot, newly generationed for reuse. */
  claim(slot: number): Uint8Array {
    if (this.refs(slot) !== 0) throw new DescriptorError(`slot ${slot} is still pinned`);
    Atomics.add(this.meta, slot * 2, 1);
    return new Uint8Array(this.mem.data, slot * this.mem.slotBytes, this.mem.slotBytes);
  }

  /** Owner side: the slot a whole-slot view from `claim` stands for. */
  slotOf(block: Uint8Array): number {
    return Math.floor(block.byteOffset / this.mem.slotBytes);
  }
}

/**
 * The pool as a server's BlockAllocator (the owner side: the disk's cache).
 *
 * A freed slot is reused only once nobody pins it, and never within the task
 * that freed it: a synchronous handler may evict a block it has just put into
 * its own reply, which is encoded (and so pinned) only when the handler returns.
 * When no slot is free the block comes from the heap instead, and crossing
 * domains will then copy it (counted by the channel).
 */
export class PoolBlocks implements BlockAllocator {
  private readonly freeSlots: number[] = [];
  private readonly state: Uint8Array; // per slot: FREE, ALLOCATED or RELEASED
  private readonly quarantine: number[] = []; // freed during the current task
  private readonly waiting = new Set<number>(); // freed; reusable once unpinned
  private flushQueued = false;

  constructor(private readonly pool: PoolMapping) {
    this.state = new Uint8Array(pool.mem.slots);
    for (let s = pool.mem.slots - 1; s >= 0; s--) this.freeSlots.push(s);
  }

  alloc(bytes: number): Uint8Array {
    if (bytes !== this.pool.mem.slotBytes) return new Uint8Array(bytes);
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      for (const s of this.waiting) {
        if (this.pool.refs(s) === 0) {
          this.waiting.delete(s);
          slot = s;
          break;
        }
      }
    }
    if (slot === undefined) return new Uint8Array(bytes);
    this.state[slot] = ALLOCATED;
    return this.pool.claim(slot);
  }

  free(block: Uint8Array): void {
    if (block.buffer !== this.pool.mem.data) return;
    const slot = this.pool.slotOf(block);
    if (this.state[slot] !== ALLOCATED) return; // not ours, or freed twice
    this.state[slot] = RELEASED;
    this.quarantine.push(slot);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        for (const s of this.quarantine) this.waiting.add(s);
        this.quarantine.length = 0;
      });
    }
  }
}

const ALLOCATED = 1;
const RELEASED = 2;
