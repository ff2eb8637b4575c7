/**
 * An IO-Lite-style shared buffer pool: fixed-size slots in one SharedArrayBuffer
 * that every domain maps, with a generation and a reference count per slot in a
 * second, small SharedArrayBuffer.
 *
 * A payload slice that lies in the pool crosses domains as a descriptor
 * (pool, slot, offset, length, generation) instead of bytes; a slice that runs
 * through consecutive slots is one extent descriptor (its first slot, the number
 * of slots, and the sum of their generations). The sender pins every slot it
 * names (ref + 1) before posting; the receiver checks the descriptor — slots in
 * range, the slice across exactly those slots, every slot pinned, generation
 * current — and maps it as one view, or refuses it without reading a byte; it
 * unpins when done. The owner (the disk's buffer cache) reuses a slot only when
 * nobody pins it, and bumps its generation on every reuse, so an old descriptor
 * can never read new bytes.
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

/**
 * A slice of the pool, as it travels in a message: `length` bytes from `offset`
 * in slot `slot`. A slice that runs on into the following slots is an extent of
 * `slots` consecutive slots (it starts in the first and ends in the last);
 * a descriptor of one slot has no `slots` field.
 *
 * `gen` is the slot's generation; for an extent, the sum of its slots'
 * generations. Generations only grow (claim adds one), so the sum is still
 * current only if no slot of the extent has been reused since (until its slots
 * have been reused 2^32 times in all, as a single slot's generation wraps).
 */
export interface Descriptor {
  pool: number;
  slot: number;
  slots?: number;
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

  /** The descriptor of `view` if it lies in this pool (in one slot, or as an extent), else null. */
  describe(view: Uint8Array): Descriptor | null {
    if (view.buffer !== this.mem.data) return null;
    return this.describeRange(view.byteOffset, view.length);
  }

  /** The descriptor of pool bytes [at, at + length); null if `at` lies in no slot. */
  describeRange(at: number, length: number): Descriptor | null {
    const { slotBytes } = this.mem;
    const slot = Math.floor(at / slotBytes);
    if (slot >= this.mem.slots) return null; // an empty view at the very end
    const offset = at - slot * slotBytes;
    const slots = length === 0 ? 1 : Math.floor((at + length - 1) / slotBytes) - slot + 1;
    const gen = this.generations(slot, slots);
    const pool = this.mem.id;
    return slots === 1 ? { pool, slot, offset, length, gen } : { pool, slot, slots, offset, length, gen };
  }

  /** Pin each of the `slots` slots from `slot`. */
  pin(slot: number, slots = 1): void {
    for (let s = slot; s < slot + slots; s++) Atomics.add(this.meta, s * 2 + 1, 1);
  }

  /** Unpin each of the `slots` slots from `slot`; throws, after unpinning the others, if one was not pinned. */
  unpin(slot: number, slots = 1): void {
    let unpinned = -1;
    for (let s = slot; s < slot + slots; s++) {
      if (Atomics.sub(this.meta, s * 2 + 1, 1) > 0) continue;
      Atomics.add(this.meta, s * 2 + 1, 1);
      if (unpinned < 0) unpinned = s;
    }
    if (unpinned >= 0) throw new DescriptorError(`pool ${this.mem.id} slot ${unpinned} unpinned more often than pinned`);
  }

  refs(slot: number): number {
    return Atomics.load(this.meta, slot * 2 + 1);
  }

  generation(slot: number): number {
    return Atomics.load(this.meta, slot * 2);
  }

  /** The sum of the generations of the `slots` slots from `slot`. */
  private generations(slot: number, slots: number): number {
    let sum = 0;
    for (let s = slot; s < slot + slots; s++) sum += Atomics.load(this.meta, s * 2);
    return sum;
  }

  /**
   * A view of the slice `d` names; throws DescriptorError, reading nothing, if
   * `d` is stale or forged: every slot it names must exist and be pinned, the
   * slice must start in its first slot and end in its last, and its generation
   * must be current.
   */
  resolve(d: Descriptor): Uint8Array {
    const slots = this.checkExtent(d);
    // pins first: a slot cannot be reused while pinned, so its generation read after stays put
    for (let s = d.slot; s < d.slot + slots; s++) {
      if (this.refs(s) <= 0) throw new DescriptorError(`descriptor for unpinned slot ${s}`);
    }
    if (d.gen !== this.generations(d.slot, slots)) {
      throw new DescriptorError(
        slots === 1 ? `stale descriptor: slot ${d.slot} was reused` : `stale descriptor: a slot of ${d.slot}..${d.slot + slots - 1} was reused`,
      );
    }
    return new Uint8Array(this.mem.data, d.slot * this.mem.slotBytes + d.offset, d.length);
  }

  /** The number of slots `d` names, if its fields name slots of this pool that the slice covers exactly. */
  private checkExtent(d: Descriptor): number {
    const { slots: poolSlots, slotBytes } = this.mem;
    const int = Number.isInteger;
    if (!d || d.pool !== this.mem.id || !int(d.slot) || d.slot < 0 || d.slot >= poolSlots) {
      throw new DescriptorError('descriptor names no slot of this pool');
    }
    const slots = d.slots === undefined ? 1 : d.slots;
    if (!int(slots) || slots < 1 || slots > poolSlots - d.slot) {
      throw new DescriptorError(`descriptor extent of ${String(d.slots)} slots from slot ${d.slot} lies outside the pool`);
    }
    if (!int(d.offset) || !int(d.length) || d.offset < 0 || d.length < 0 || d.offset + d.length > slots * slotBytes) {
      const where = slots === 1 ? `its ${slotBytes}-byte slot` : `its extent of ${slots} ${slotBytes}-byte slots`;
      throw new DescriptorError(`descriptor slice ${d.offset}+${d.length} lies outside ${where}`);
    }
    if (slots > 1 && (d.offset >= slotBytes || d.offset + d.length <= (slots - 1) * slotBytes)) {
      throw new DescriptorError(`descriptor slice ${d.offset}+${d.length} does not start in the first and end in the last of its ${slots} slots`);
    }
    return slots;
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
 * Slots are handed out next-fit: the search starts just after the slot handed
 * out last, so the blocks a read brings in one after another (a file's blocks)
 * are consecutive slots where the pool has room, and their views cross domains
 * as one extent descriptor. A freed slot is reused only once nobody pins it,
 * and never within the task that freed it: a synchronous handler may evict a
 * block it has just put into its own reply, which is encoded (and so pinned)
 * only when the handler returns. When no slot is reusable the block comes from
 * the heap instead, and crossing domains will then copy it (counted by the channel).
 */
export class PoolBlocks implements BlockAllocator {
  private readonly state: Uint8Array; // per slot: FREE, ALLOCATED, RELEASED (freed in this task) or WAITING
  private readonly quarantine: number[] = []; // RELEASED slots, WAITING from the end of the task
  private reusable: number; // slots FREE or WAITING (a WAITING one may still be pinned)
  private next = 0; // where the search for a slot starts
  private flushQueued = false;

  /**
   * `recovered`: the pool was in use by an earlier incarnation of the owner,
   * whose blocks other domains may still pin: every slot starts as WAITING, to
   * be reused only once nobody pins it (a reuse bumps its generation, so a
   * descriptor the old owner handed out is refused, never read).
   */
  constructor(
    private readonly pool: PoolMapping,
    recovered = false,
  ) {
    this.state = new Uint8Array(pool.mem.slots).fill(recovered ? WAITING : FREE);
    this.reusable = pool.mem.slots;
  }

  alloc(bytes: number): Uint8Array {
    if (bytes !== this.pool.mem.slotBytes) return new Uint8Array(bytes);
    const slot = this.take();
    if (slot < 0) return new Uint8Array(bytes);
    this.state[slot] = ALLOCATED;
    this.reusable--;
    this.next = slot + 1 === this.state.length ? 0 : slot + 1;
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
        for (const s of this.quarantine) this.state[s] = WAITING;
        this.reusable += this.quarantine.length;
        this.quarantine.length = 0;
      });
    }
  }

  /** The first reusable slot from `next` on (wrapping round), or -1. */
  private take(): number {
    if (this.reusable === 0) return -1;
    const n = this.state.length;
    for (let i = 0, s = this.next; i < n; i++, s = s + 1 === n ? 0 : s + 1) {
      const st = this.state[s];
      if (st === FREE || (st === WAITING && this.pool.refs(s) === 0)) return s;
    }
    return -1;
  }
}

const FREE = 0;
const ALLOCATED = 1;
const RELEASED = 2;
const WAITING = 3;
