/**
 * The IO-Lite-style shared buffer pool (src/microkernel/pool.ts) in-process:
 * describe() of pool views, resolve() of descriptors and every way it must
 * refuse one, pin/unpin/claim bookkeeping, and PoolBlocks (the disk cache's
 * allocator over the pool). No threads: two PoolMappings of one PoolMemory stand
 * for two domains, which share the pool's data and meta buffers.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Counters } from '../src/metrics/counters.js';
import { disk } from '../src/servers/disk.js';
import { BLOCK_SIZE, mkfs } from '../src/servers/fs.js';
import { bootServer, type ServerContext } from '../src/servers/server.js';
import { serverContext } from './support/contexts.js';
import {
  DescriptorError,
  newPoolMemory,
  PoolBlocks,
  PoolMapping,
  type Descriptor,
  type PoolMemory,
} from '../src/microkernel/pool.js';

// A small pool: id 3 (not 0, so an id mix-up shows), 4 slots of 64 bytes.
const POOL_ID = 3;
const SLOTS = 4;
const SLOT = 64;

/** A pool whose byte i holds (7i + 3) & 255, so every slice has recognisable contents. */
function pool(slots = SLOTS, slotBytes = SLOT, id = POOL_ID) {
  const mem = newPoolMemory(id, slots, slotBytes);
  const bytes = new Uint8Array(mem.data);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (7 * i + 3) & 255;
  return { mem, owner: new PoolMapping(mem), peer: new PoolMapping(mem), bytes };
}

/** The bytes the pattern puts at absolute positions [from, from + n). */
function expected(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => (7 * (from + k) + 3) & 255);
}

/** resolve(d) must throw a DescriptorError; returns its message. */
function refused(p: PoolMapping, d: unknown): string {
  let err: unknown = null;
  let view: unknown = 'not called';
  try {
    view = p.resolve(d as Descriptor);
  } catch (e) {
    err = e;
  }
  expect(view).toBe('not called'); // no view was handed out
  expect(err).toBeInstanceOf(DescriptorError);
  return (err as Error).message;
}

/** A slot's [generation, references], as both mappings see them. */
function state(mem: PoolMemory, slot: number): [number, number] {
  const meta = new Int32Array(mem.meta);
  return [meta[slot * 2], meta[slot * 2 + 1]];
}

/** Lets the microtasks queued by the current task run (PoolBlocks releases freed slots then). */
const endOfTask = () => new Promise<void>((r) => setImmediate(r));

describe('newPoolMemory', () => {
  it('lays out slots * slotBytes of data and one [generation, refs] Int32 pair per slot, all zero', () => {
    const mem = newPoolMemory(5, 3, 128);
    expect(mem).toMatchObject({ id: 5, slots: 3, slotBytes: 128 });
    expect(mem.data).toBeInstanceOf(SharedArrayBuffer);
    expect(mem.data.byteLength).toBe(384);
    expect(mem.meta).toBeInstanceOf(SharedArrayBuffer);
    expect(mem.meta.byteLength).toBe(24);
    expect([...new Int32Array(mem.meta)]).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('PoolMapping.describe', () => {
  it('a view inside slot 2 gives slot 2, the offset inside the slot, the length and the current generation', () => {
    const { mem, owner } = pool();
    owner.claim(2); // generation 1
    owner.claim(2); // generation 2
    const view = new Uint8Array(mem.data, 2 * SLOT + 10, 20);
    expect(owner.describe(view)).toEqual({ pool: POOL_ID, slot: 2, offset: 10, length: 20, gen: 2 });
  });

  it('a whole slot (offset 0, the full slot length) is one slot, not two', () => {
    const { mem, owner } = pool();
    expect(owner.describe(new Uint8Array(mem.data, 1 * SLOT, SLOT))).toEqual({ pool: POOL_ID, slot: 1, offset: 0, length: SLOT, gen: 0 });
    expect(owner.describe(new Uint8Array(mem.data, 3 * SLOT, SLOT))).toEqual({ pool: POOL_ID, slot: 3, offset: 0, length: SLOT, gen: 0 });
  });

  it('the last byte of slot 0 and the first byte of slot 1 are in different slots', () => {
    const { mem, owner } = pool();
    expect(owner.describe(new Uint8Array(mem.data, SLOT - 1, 1))).toMatchObject({ slot: 0, offset: SLOT - 1, length: 1 });
    expect(owner.describe(new Uint8Array(mem.data, SLOT, 1))).toMatchObject({ slot: 1, offset: 0, length: 1 });
  });

  it('a subarray of a claimed slot describes the same slice as the equivalent view', () => {
    const { owner } = pool();
    const block = owner.claim(3);
    expect(owner.describe(block.subarray(5, 9))).toEqual({ pool: POOL_ID, slot: 3, offset: 5, length: 4, gen: 1 });
  });

  it('a view that spans slots is an extent: its first slot, the offset there, the slot count, the sum of their generations', () => {
    const { mem, owner } = pool();
    owner.claim(1); // generation 1
    owner.claim(2);
    owner.claim(2); // generation 2
    expect(owner.describe(new Uint8Array(mem.data, SLOT - 1, 2))).toEqual({ pool: POOL_ID, slot: 0, slots: 2, offset: SLOT - 1, length: 2, gen: 1 });
    expect(owner.describe(new Uint8Array(mem.data, 10, SLOT))).toEqual({ pool: POOL_ID, slot: 0, slots: 2, offset: 10, length: SLOT, gen: 1 });
    expect(owner.describe(new Uint8Array(mem.data, SLOT, 2 * SLOT))).toEqual({ pool: POOL_ID, slot: 1, slots: 2, offset: 0, length: 2 * SLOT, gen: 3 });
    // the whole pool
    expect(owner.describe(new Uint8Array(mem.data))).toEqual({ pool: POOL_ID, slot: 0, slots: SLOTS, offset: 0, length: SLOTS * SLOT, gen: 3 });
  });

  it('views outside the pool are null: heap memory, another SharedArrayBuffer, another pool of the same shape', () => {
    const { owner } = pool();
    const other = pool();
    expect(owner.describe(new Uint8Array(SLOT))).toBeNull();
    expect(owner.describe(new Uint8Array(new SharedArrayBuffer(SLOTS * SLOT), 0, 8))).toBeNull();
    expect(owner.describe(new Uint8Array(other.mem.data, 0, 8))).toBeNull();
  });

  // Regression test (was a bug in src/microkernel/pool.ts, describe).
  it('a zero-length view at the very end of the pool lies in no slot: null, not a RangeError', () => {
    const { mem, owner } = pool();
    expect(owner.describe(new Uint8Array(mem.data, SLOTS * SLOT, 0))).toBeNull();
  });

  it('describe neither pins nor bumps anything', () => {
    const { mem, owner } = pool();
    owner.describe(new Uint8Array(mem.data, SLOT + 3, 4));
    for (let s = 0; s < SLOTS; s++) expect(state(mem, s)).toEqual([0, 0]);
  });
});

describe('PoolMapping.resolve: a pinned, current descriptor', () => {
  it('maps exactly the described bytes of the shared buffer, in another mapping of the same pool', () => {
    const { mem, owner, peer } = pool();
    owner.claim(1);
    const d = owner.describe(new Uint8Array(mem.data, SLOT + 12, 30))!;
    owner.pin(1);
    const view = peer.resolve(d);
    expect(view.buffer).toBe(mem.data);
    expect(view.byteOffset).toBe(SLOT + 12);
    expect(view.length).toBe(30);
    expect([...view]).toEqual(expected(SLOT + 12, 30));
  });

  it('the view is the pool memory itself, not a copy: a write by the owner shows through', () => {
    const { mem, owner, peer, bytes } = pool();
    const d: Descriptor = { pool: POOL_ID, slot: 0, offset: 4, length: 2, gen: 0 };
    owner.pin(0);
    const view = peer.resolve(d);
    bytes[5] = 0xee;
    expect(view[1]).toBe(0xee);
    expect(view.buffer).toBe(mem.data);
  });

  it('edge slices are accepted: zero length, a slice ending exactly at the slot end, a whole slot', () => {
    const { mem, owner } = pool();
    owner.pin(3);
    expect(owner.resolve({ pool: POOL_ID, slot: 3, offset: 0, length: 0, gen: 0 }).length).toBe(0);
    const tail = owner.resolve({ pool: POOL_ID, slot: 3, offset: SLOT - 3, length: 3, gen: 0 });
    expect(tail.byteOffset).toBe(4 * SLOT - 3);
    expect([...tail]).toEqual(expected(4 * SLOT - 3, 3));
    const whole = owner.resolve({ pool: POOL_ID, slot: 3, offset: 0, length: SLOT, gen: 0 });
    expect(whole.byteOffset).toBe(3 * SLOT);
    expect(whole.byteLength).toBe(SLOT);
    expect(whole.buffer).toBe(mem.data);
  });

  it('resolve does not pin, unpin or bump', () => {
    const { mem, owner } = pool();
    owner.claim(2);
    owner.pin(2);
    owner.resolve({ pool: POOL_ID, slot: 2, offset: 0, length: 1, gen: 1 });
    owner.resolve({ pool: POOL_ID, slot: 2, offset: 0, length: 1, gen: 1 });
    expect(state(mem, 2)).toEqual([1, 1]);
  });
});

describe('PoolMapping.resolve refuses, reading nothing', () => {
  /** A pool with slot 1 claimed once (generation 1) and pinned once, and a good descriptor for it. */
  function ready() {
    const p = pool();
    p.owner.claim(1);
    p.owner.pin(1);
    const good: Descriptor = { pool: POOL_ID, slot: 1, offset: 8, length: 16, gen: 1 };
    expect(p.peer.resolve(good).length).toBe(16); // the baseline is accepted
    return { ...p, good };
  }

  it('a stale generation: the slot was reclaimed with claim() after the descriptor was made', () => {
    const { mem, owner, peer } = pool();
    const block = owner.claim(0); // generation 1
    const old = owner.describe(block.subarray(0, 8))!;
    expect(old.gen).toBe(1);
    owner.claim(0); // reused: generation 2
    owner.pin(0); // pinned again for the new contents: only the generation is wrong
    expect(refused(peer, old)).toMatch(/stale/);
    expect(peer.resolve({ ...old, gen: 2 }).length).toBe(8); // the current generation is fine
    expect(state(mem, 0)).toEqual([2, 1]);
  });

  it('a generation from the future or of another type is stale too', () => {
    const { peer, good } = ready();
    refused(peer, { ...good, gen: 2 });
    refused(peer, { ...good, gen: 0 });
    refused(peer, { ...good, gen: '1' });
    refused(peer, { ...good, gen: NaN });
    refused(peer, { ...good, gen: undefined });
  });

  it('an unpinned slot, even with the current generation', () => {
    const { owner, peer, good } = ready();
    owner.unpin(1);
    expect(refused(peer, good)).toMatch(/unpinned/);
    const fresh = pool(); // never claimed, never pinned: generation 0, refs 0
    refused(fresh.peer, { pool: POOL_ID, slot: 0, offset: 0, length: 1, gen: 0 });
  });

  it('a slot out of range', () => {
    const { peer, good } = ready();
    expect(refused(peer, { ...good, slot: SLOTS })).toMatch(/no slot/);
    refused(peer, { ...good, slot: SLOTS + 1000 });
    refused(peer, { ...good, slot: -1 });
  });

  it.each([
    ['slot', -1],
    ['slot', NaN],
    ['slot', 1.5],
    ['slot', Infinity],
    ['slot', '1'],
    ['offset', -1],
    ['offset', NaN],
    ['offset', 0.5],
    ['offset', '8'],
    ['length', -1],
    ['length', NaN],
    ['length', 2.5],
    ['length', -Infinity],
    ['length', null],
  ] as const)('a bad field: %s = %s', (field, value) => {
    const { peer, good } = ready();
    refused(peer, { ...good, [field]: value });
  });

  it('a missing field', () => {
    const { peer, good } = ready();
    for (const k of ['pool', 'slot', 'offset', 'length', 'gen'] as const) {
      const { [k]: _dropped, ...rest } = good;
      refused(peer, rest);
    }
  });

  it('a slice past the end of its slot (it would read the next slot)', () => {
    const { peer, good } = ready();
    expect(refused(peer, { ...good, offset: 0, length: SLOT + 1 })).toMatch(/outside/);
    refused(peer, { ...good, offset: SLOT - 3, length: 4 });
    refused(peer, { ...good, offset: SLOT, length: 1 });
    refused(peer, { ...good, offset: SLOT + 1, length: 0 });
    refused(peer, { ...good, offset: 2 ** 53, length: 0 });
  });

  it('an unknown pool id', () => {
    const { peer, good } = ready();
    refused(peer, { ...good, pool: POOL_ID + 1 });
    refused(peer, { ...good, pool: 0 });
    refused(peer, { ...good, pool: String(POOL_ID) });
  });

  it('a non-object', () => {
    const { peer } = ready();
    for (const d of [null, undefined, 0, 1, 'descriptor', true, Symbol('d')]) refused(peer, d);
  });

  it('a view or an array is not a descriptor', () => {
    const { mem, peer } = ready();
    refused(peer, new Uint8Array(mem.data, SLOT, 8));
    refused(peer, [POOL_ID, 1, 8, 16, 1]);
  });

  it('a refusal changes no generation and no reference count', () => {
    const { mem, peer, good } = ready();
    refused(peer, { ...good, gen: 7 });
    refused(peer, { ...good, length: SLOT });
    refused(peer, { ...good, slot: 9 });
    expect(state(mem, 1)).toEqual([1, 1]);
    for (const s of [0, 2, 3]) expect(state(mem, s)).toEqual([0, 0]);
  });
});

describe('pin, unpin, claim', () => {
  it('pins are counted per slot and seen by every mapping of the pool', () => {
    const { owner, peer } = pool();
    owner.pin(2);
    peer.pin(2);
    peer.pin(3);
    expect([owner.refs(0), owner.refs(1), owner.refs(2), owner.refs(3)]).toEqual([0, 0, 2, 1]);
    owner.unpin(2);
    expect(peer.refs(2)).toBe(1);
  });

  it('unpin more often than pinned throws a DescriptorError and leaves the count at zero', () => {
    const { mem, owner } = pool();
    expect(() => owner.unpin(0)).toThrow(DescriptorError);
    expect(owner.refs(0)).toBe(0);
    owner.pin(1);
    owner.unpin(1);
    expect(() => owner.unpin(1)).toThrow(DescriptorError);
    expect(state(mem, 1)).toEqual([0, 0]);
    owner.pin(1); // still usable afterwards
    expect(owner.refs(1)).toBe(1);
  });

  it('claim of an unpinned slot bumps its generation by one and returns the whole slot', () => {
    const { mem, owner } = pool();
    const block = owner.claim(2);
    expect(block.buffer).toBe(mem.data);
    expect(block.byteOffset).toBe(2 * SLOT);
    expect(block.length).toBe(SLOT);
    expect(owner.generation(2)).toBe(1);
    owner.claim(2);
    expect(owner.generation(2)).toBe(2);
    expect(owner.slotOf(block)).toBe(2);
    expect([0, 1, 3].map((s) => owner.generation(s))).toEqual([0, 0, 0]);
  });

  it('claim of a pinned slot throws and bumps nothing', () => {
    const { mem, owner, peer } = pool();
    owner.claim(1); // generation 1
    peer.pin(1);
    expect(() => owner.claim(1)).toThrow(DescriptorError);
    expect(state(mem, 1)).toEqual([1, 1]);
    // the pinned descriptor still resolves
    expect(peer.resolve({ pool: POOL_ID, slot: 1, offset: 0, length: 4, gen: 1 }).length).toBe(4);
    peer.unpin(1);
    owner.claim(1);
    expect(state(mem, 1)).toEqual([2, 0]);
  });
});

describe('PoolBlocks: the owner side', () => {
  it('hands out distinct whole slots until the pool is exhausted, then heap blocks outside the pool', () => {
    const { mem, owner } = pool();
    const blocks = new PoolBlocks(owner);
    const got = Array.from({ length: SLOTS }, () => blocks.alloc(SLOT));
    for (const b of got) {
      expect(b.buffer).toBe(mem.data);
      expect(b.length).toBe(SLOT);
      expect(b.byteOffset % SLOT).toBe(0);
    }
    expect(new Set(got.map((b) => owner.slotOf(b))).size).toBe(SLOTS);
    const extra = [blocks.alloc(SLOT), blocks.alloc(SLOT)];
    for (const b of extra) {
      expect(b.buffer).not.toBe(mem.data);
      expect(b.buffer).toBeInstanceOf(ArrayBuffer);
      expect(b.length).toBe(SLOT);
      expect(owner.describe(b)).toBeNull();
    }
    // every slot was claimed exactly once
    for (let s = 0; s < SLOTS; s++) expect(state(mem, s)).toEqual([1, 0]);
  });

  it('a size other than the slot size is a heap block and uses no slot', () => {
    const { mem, owner } = pool();
    const blocks = new PoolBlocks(owner);
    for (const n of [SLOT - 1, SLOT + 1, 1, 2 * SLOT]) {
      const b = blocks.alloc(n);
      expect(b.buffer).not.toBe(mem.data);
      expect(b.length).toBe(n);
    }
    for (let s = 0; s < SLOTS; s++) expect(owner.generation(s)).toBe(0);
    // all slots are still free
    const pooled = Array.from({ length: SLOTS }, () => blocks.alloc(SLOT));
    expect(pooled.every((b) => b.buffer === mem.data)).toBe(true);
  });

  it('a freed slot is not reused within the task that freed it (its reply is not encoded yet)', async () => {
    const { mem, owner } = pool();
    const blocks = new PoolBlocks(owner);
    const all = Array.from({ length: SLOTS }, () => blocks.alloc(SLOT));
    blocks.free(all[2]);
    expect(blocks.alloc(SLOT).buffer).not.toBe(mem.data); // same task: a heap block, not the slot
    await endOfTask();
    expect(owner.slotOf(blocks.alloc(SLOT))).toBe(owner.slotOf(all[2]));
  });

  it('free() of an unpinned slot makes it reusable, and reuse bumps its generation', async () => {
    const { mem, owner } = pool();
    const blocks = new PoolBlocks(owner);
    const all = Array.from({ length: SLOTS }, () => blocks.alloc(SLOT));
    const victim = all[2];
    const slot = owner.slotOf(victim);
    const old = owner.describe(victim.subarray(0, 4))!;
    expect(old.gen).toBe(1);
    blocks.free(victim);
    await endOfTask();
    const again = blocks.alloc(SLOT);
    expect(again.buffer).toBe(mem.data);
    expect(owner.slotOf(again)).toBe(slot);
    expect(owner.generation(slot)).toBe(2);
    owner.pin(slot);
    refused(owner, old); // the old descriptor can never read the new contents
  });

  it('free() of a pinned slot defers its reuse until it is unpinned', async () => {
    const { mem, owner, peer } = pool();
    const blocks = new PoolBlocks(owner);
    const all = Array.from({ length: SLOTS }, () => blocks.alloc(SLOT));
    const slot = owner.slotOf(all[1]);
    peer.pin(slot); // a reader holds it
    blocks.free(all[1]);
    await endOfTask();
    const meanwhile = blocks.alloc(SLOT);
    expect(meanwhile.buffer).not.toBe(mem.data); // not the pinned slot: a heap block
    expect(owner.generation(slot)).toBe(1); // untouched while pinned
    peer.unpin(slot);
    const reused = blocks.alloc(SLOT);
    expect(reused.buffer).toBe(mem.data);
    expect(owner.slotOf(reused)).toBe(slot);
    expect(owner.generation(slot)).toBe(2);
  });

  it('a free slot is handed out before a deferred one becomes due', async () => {
    const { owner, peer } = pool();
    const blocks = new PoolBlocks(owner);
    const all = Array.from({ length: SLOTS }, () => blocks.alloc(SLOT));
    const pinnedSlot = owner.slotOf(all[0]);
    const freeSlot = owner.slotOf(all[3]);
    peer.pin(pinnedSlot);
    blocks.free(all[0]);
    blocks.free(all[3]);
    await endOfTask();
    expect(owner.slotOf(blocks.alloc(SLOT))).toBe(freeSlot);
    expect(blocks.alloc(SLOT).buffer).toBeInstanceOf(ArrayBuffer); // the pinned one is still held
  });

  it('a slot pinned again after its free() (a reader re-sent its view) is skipped, and reused once unpinned', async () => {
    const { mem, owner, peer } = pool();
    const blocks = new PoolBlocks(owner);
    const all = Array.from({ length: SLOTS }, () => blocks.alloc(SLOT));
    const slot = owner.slotOf(all[2]);
    blocks.free(all[2]); // unpinned when freed
    peer.pin(slot); // then pinned by a reader (its reply was encoded in the same task)
    await endOfTask();
    const meanwhile = blocks.alloc(SLOT); // must neither throw (claim of a pinned slot) nor hand it out
    expect(meanwhile.buffer).not.toBe(mem.data);
    expect(state(mem, slot)).toEqual([1, 1]);
    peer.unpin(slot);
    const reused = blocks.alloc(SLOT);
    expect(owner.slotOf(reused)).toBe(slot);
    expect(reused.buffer).toBe(mem.data);
    expect(state(mem, slot)).toEqual([2, 0]);
  });

  it('free() twice hands the slot out once', async () => {
    const { mem, owner } = pool();
    const blocks = new PoolBlocks(owner);
    const all = Array.from({ length: SLOTS }, () => blocks.alloc(SLOT));
    blocks.free(all[1]);
    blocks.free(all[1]);
    await endOfTask();
    expect(blocks.alloc(SLOT).buffer).toBe(mem.data);
    expect(blocks.alloc(SLOT).buffer).not.toBe(mem.data);
  });

  it('free() of a heap block is ignored: it never enters the pool', () => {
    const { mem, owner } = pool();
    const blocks = new PoolBlocks(owner);
    for (let i = 0; i < SLOTS; i++) blocks.alloc(SLOT);
    const heap = blocks.alloc(SLOT);
    blocks.free(heap);
    const next = blocks.alloc(SLOT);
    expect(next.buffer).not.toBe(mem.data);
    expect(next).not.toBe(heap);
  });
});

describe('PoolBlocks as the disk server\'s cache allocator', () => {
  // One 3-block file (2 * 4096 + 500 bytes) after the inode block: data blocks 2, 3, 4.
  const FILE = 2 * BLOCK_SIZE + 500;

  /** The disk server in-process with its cache in a pool of `slots` slots; DISK_READ of the whole file. */
  function readWholeFile(cacheBlocks: number, slots: number) {
    const image = mkfs([{ path: '/f', size: FILE }], 'pool');
    const mem = newPoolMemory(0, slots, BLOCK_SIZE);
    const owner = new PoolMapping(mem);
    const ctx: ServerContext = {
      ...serverContext('disk', new Counters(), () => {
        throw new Error('the disk calls nobody');
      }),
      blocks: new PoolBlocks(owner),
    };
    const srv = bootServer(disk, { image, cacheBlocks }, ctx);
    const r = srv.dispatch({ type: 'DISK_READ', ino: 0, offset: 0, length: FILE } as { type: string }) as {
      ok: true;
      value: { data: Uint8Array[]; length: number };
    };
    const want = new Uint8Array(image, 2 * BLOCK_SIZE, FILE);
    return { mem, owner, data: r.value.data, want };
  }

  it('a cache that holds the whole file hands out views of distinct pool slots with the file\'s bytes', () => {
    const { mem, owner, data, want } = readWholeFile(4, 8);
    expect(data.map((d) => d.length)).toEqual([BLOCK_SIZE, BLOCK_SIZE, 500]);
    expect(data.every((d) => d.buffer === mem.data)).toBe(true);
    expect(new Set(data.map((d) => owner.slotOf(d))).size).toBe(3);
    let at = 0;
    for (const d of data) {
      expect(d).toEqual(want.subarray(at, at + d.length));
      at += d.length;
    }
  });

  // Regression test (was a bug in src/servers/disk.ts getBlock + src/microkernel/pool.ts PoolBlocks).
  it('a cache smaller than the file still returns the file\'s bytes (no slot reused within one read)', () => {
    const { data, want } = readWholeFile(2, 8);
    let at = 0;
    for (const d of data) {
      expect(d).toEqual(want.subarray(at, at + d.length));
      at += d.length;
    }
  });
});

describe('property: a descriptor never outlives its slot generation', () => {
  type Op =
    | { op: 'describe'; slot: number; offset: number; length: number }
    | { op: 'pin' | 'unpin' | 'claim'; slot: number }
    | { op: 'resolve'; pick: number };

  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      op: fc.constant('describe' as const),
      slot: fc.integer({ min: 0, max: SLOTS - 1 }),
      offset: fc.integer({ min: 0, max: SLOT - 1 }),
      length: fc.integer({ min: 0, max: SLOT }),
    }),
    fc.record({ op: fc.constantFrom('pin' as const, 'unpin' as const, 'claim' as const), slot: fc.integer({ min: 0, max: SLOTS - 1 }) }),
    fc.record({ op: fc.constant('resolve' as const), pick: fc.nat() }),
  );

  it('random pin/unpin/claim/describe/resolve sequences follow the model; an old generation never resolves', () => {
    let resolvedOk = 0;
    let refusedStale = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        const { mem, owner, peer } = pool();
        const gen = new Array<number>(SLOTS).fill(0);
        const refs = new Array<number>(SLOTS).fill(0);
        const made: { d: Descriptor; claimedSince: boolean }[] = [];
        for (const o of ops) {
          switch (o.op) {
            case 'describe': {
              const length = Math.min(o.length, SLOT - o.offset);
              const d = owner.describe(new Uint8Array(mem.data, o.slot * SLOT + o.offset, length))!;
              expect(d).toEqual({ pool: POOL_ID, slot: o.slot, offset: o.offset, length, gen: gen[o.slot] });
              made.push({ d, claimedSince: false });
              break;
            }
            case 'pin':
              owner.pin(o.slot);
              refs[o.slot]++;
              break;
            case 'unpin':
              if (refs[o.slot] === 0) expect(() => peer.unpin(o.slot)).toThrow(DescriptorError);
              else {
                peer.unpin(o.slot);
                refs[o.slot]--;
              }
              break;
            case 'claim':
              if (refs[o.slot] > 0) expect(() => owner.claim(o.slot)).toThrow(DescriptorError);
              else {
                owner.claim(o.slot);
                gen[o.slot]++;
                for (const m of made) if (m.d.slot === o.slot) m.claimedSince = true;
              }
              break;
            case 'resolve': {
              if (made.length === 0) break;
              const m = made[o.pick % made.length];
              const shouldResolve = !m.claimedSince && refs[m.d.slot] > 0;
              expect(m.claimedSince).toBe(m.d.gen !== gen[m.d.slot]);
              if (shouldResolve) {
                const v = peer.resolve(m.d);
                expect(v.byteOffset).toBe(m.d.slot * SLOT + m.d.offset);
                expect(v.length).toBe(m.d.length);
                resolvedOk++;
              } else {
                expect(() => peer.resolve(m.d)).toThrow(DescriptorError);
                if (m.claimedSince) refusedStale++;
              }
              break;
            }
          }
          // the shared meta always equals the model
          for (let s = 0; s < SLOTS; s++) expect(state(mem, s)).toEqual([gen[s], refs[s]]);
        }
      }),
      { numRuns: 300, seed: 1996 },
    );
    // the generator reaches both sides of the property
    expect(resolvedOk).toBeGreaterThan(0);
    expect(refusedStale).toBeGreaterThan(0);
  });
});
