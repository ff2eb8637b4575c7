/**
 * Extent descriptors of the shared buffer pool (src/microkernel/pool.ts)
 * in-process: a slice running through consecutive slots is one descriptor
 * (first slot, slot count, offset, length, sum of generations). What resolve()
 * maps, every way it refuses an extent (a stale or unpinned slot anywhere in
 * it, past the pool's end, a slot count the slice does not fill, bad fields),
 * pin/unpin of a run of slots, and PoolBlocks handing out consecutive slots so
 * that a file read into the cache is one extent. No threads: two PoolMappings of
 * one PoolMemory stand for two domains.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Counters } from '../src/metrics/counters.js';
import { disk } from '../src/servers/disk.js';
import { BLOCK_SIZE, mkfs } from '../src/servers/fs.js';
import { bootServer, type ServerContext } from '../src/servers/server.js';
import { serverContext } from './support/contexts.js';
import { DescriptorError, newPoolMemory, PoolBlocks, PoolMapping, type Descriptor, type PoolMemory } from '../src/microkernel/pool.js';
import { sharedCodec } from '../src/microkernel/transport.js';

// id 3, 6 slots of 64 bytes
const POOL_ID = 3;
const SLOTS = 6;
const SLOT = 64;

/** A pool whose byte i holds (7i + 3) & 255. */
function pool(slots = SLOTS) {
  const mem = newPoolMemory(POOL_ID, slots, SLOT);
  const bytes = new Uint8Array(mem.data);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (7 * i + 3) & 255;
  return { mem, owner: new PoolMapping(mem), peer: new PoolMapping(mem) };
}

const expected = (from: number, n: number) => Array.from({ length: n }, (_, k) => (7 * (from + k) + 3) & 255);

/** resolve(d) must throw a DescriptorError and hand out no view; returns its message. */
function refused(p: PoolMapping, d: unknown): string {
  let err: unknown = null;
  let view: unknown = 'not called';
  try {
    view = p.resolve(d as Descriptor);
  } catch (e) {
    err = e;
  }
  expect(view).toBe('not called');
  expect(err).toBeInstanceOf(DescriptorError);
  return (err as Error).message;
}

/** Every slot's [generation, references]. */
function meta(mem: PoolMemory): [number, number][] {
  const m = new Int32Array(mem.meta);
  return Array.from({ length: mem.slots }, (_, s) => [m[s * 2], m[s * 2 + 1]]);
}

const endOfTask = () => new Promise<void>((r) => setImmediate(r));

/**
 * Slots 1..4 claimed to generations 1, 2, 1, 3 and pinned once; the good extent
 * over them from byte 10 of slot 1 to byte 20 of slot 4 (gen 1 + 2 + 1 + 3 = 7).
 */
function ready() {
  const p = pool();
  const gens = [0, 1, 2, 1, 3, 0];
  gens.forEach((g, s) => {
    for (let i = 0; i < g; i++) p.owner.claim(s);
  });
  p.owner.pin(1, 4);
  const good: Descriptor = { pool: POOL_ID, slot: 1, slots: 4, offset: 10, length: 3 * SLOT + 10, gen: 7 };
  expect(p.peer.resolve(good).length).toBe(3 * SLOT + 10);
  return { ...p, good };
}

describe('an extent descriptor resolves to one view across its slots', () => {
  it('describe() of a view through four slots, then resolve() in another mapping: the same bytes, one view', () => {
    const { mem, owner, peer, good } = ready();
    const view = new Uint8Array(mem.data, SLOT + 10, 3 * SLOT + 10);
    expect(owner.describe(view)).toEqual(good);
    const got = peer.resolve(good);
    expect(got.buffer).toBe(mem.data);
    expect(got.byteOffset).toBe(SLOT + 10);
    expect([...got]).toEqual(expected(SLOT + 10, 3 * SLOT + 10));
  });

  it('edge extents: whole slots, the whole pool, ending at the pool end, one byte in each of two slots', () => {
    const { mem, owner } = pool();
    owner.pin(0, SLOTS);
    const whole = owner.resolve({ pool: POOL_ID, slot: 0, slots: SLOTS, offset: 0, length: SLOTS * SLOT, gen: 0 });
    expect(whole.byteLength).toBe(mem.data.byteLength);
    const tail = owner.resolve({ pool: POOL_ID, slot: SLOTS - 2, slots: 2, offset: 5, length: 2 * SLOT - 5, gen: 0 });
    expect(tail.byteOffset + tail.length).toBe(SLOTS * SLOT);
    const pair = owner.resolve({ pool: POOL_ID, slot: 2, slots: 2, offset: SLOT - 1, length: 2, gen: 0 });
    expect([...pair]).toEqual(expected(3 * SLOT - 1, 2));
  });

  it('an explicit slots: 1 is a one-slot descriptor', () => {
    const { owner } = pool();
    owner.pin(2);
    expect(owner.resolve({ pool: POOL_ID, slot: 2, slots: 1, offset: 0, length: SLOT, gen: 0 }).length).toBe(SLOT);
    refused(owner, { pool: POOL_ID, slot: 2, slots: 1, offset: 1, length: SLOT, gen: 0 }); // one slot: no running on
  });

  it('two overlapping extents both resolve; resolve pins and bumps nothing', () => {
    const { mem, peer, good } = ready();
    const before = meta(mem);
    const a = peer.resolve(good);
    const b = peer.resolve({ pool: POOL_ID, slot: 2, slots: 2, offset: 0, length: 2 * SLOT, gen: 3 });
    expect(b.byteOffset).toBeGreaterThan(a.byteOffset);
    expect(b.byteOffset + b.length).toBeLessThan(a.byteOffset + a.length);
    expect(meta(mem)).toEqual(before);
  });
});

describe('an extent is refused, reading nothing', () => {
  it('a stale slot in the middle: slot 3 reused since the extent was made', () => {
    const { owner, peer, good } = ready();
    owner.unpin(3);
    owner.claim(3); // reused: generation 2
    owner.pin(3); // and pinned for its new contents: only the generation is wrong
    expect(refused(peer, good)).toMatch(/stale/);
    expect(peer.resolve({ ...good, gen: 8 }).length).toBe(good.length); // the current sum is fine
  });

  it('a stale first or last slot', () => {
    for (const s of [1, 4]) {
      const { owner, peer, good } = ready();
      owner.unpin(s);
      owner.claim(s);
      owner.pin(s);
      expect(refused(peer, good)).toMatch(/stale/);
    }
  });

  it('a generation sum from the future, too small, or not a number', () => {
    const { peer, good } = ready();
    for (const gen of [6, 8, 0, -7, 7.5, '7', NaN, undefined, null]) refused(peer, { ...good, gen });
  });

  it('an unpinned slot in the middle, even with every generation current; the message names the slot', () => {
    const { owner, peer, good } = ready();
    owner.unpin(3);
    expect(refused(peer, good)).toMatch(/unpinned slot 3/);
  });

  it('an extent running past the end of the pool', () => {
    const { owner, peer, good } = ready();
    owner.pin(5);
    expect(refused(peer, { ...good, slot: 4, slots: 3, offset: 0, length: 2 * SLOT + 1 })).toMatch(/outside the pool/);
    refused(peer, { ...good, slot: 5, slots: 2, offset: 0, length: SLOT + 1 });
    refused(peer, { ...good, slot: 0, slots: SLOTS + 1, offset: 0, length: SLOTS * SLOT + 1 });
    refused(peer, { ...good, slots: 2 ** 31 });
    refused(peer, { ...good, slot: SLOTS, slots: 1, offset: 0, length: 0 });
  });

  it('a slice that runs past its last slot (it would read the next one)', () => {
    const { peer, good } = ready();
    expect(refused(peer, { ...good, length: good.length + SLOT })).toMatch(/outside/);
    refused(peer, { ...good, offset: 0, length: 4 * SLOT + 1 });
  });

  it('a slot count the slice does not fill: it ends before the last slot, or starts after the first', () => {
    const { owner, peer, good } = ready();
    owner.pin(5);
    refused(peer, { ...good, slots: 5, gen: 7 }); // slot 5 holds no byte of it
    refused(peer, { ...good, offset: SLOT, length: 2 * SLOT }); // starts in slot 2, not slot 1
    refused(peer, { ...good, offset: 0, length: 3 * SLOT }); // ends at the end of slot 3
  });

  it('a zero-length extent', () => {
    const { peer, good } = ready();
    refused(peer, { ...good, offset: 0, length: 0 });
    refused(peer, { ...good, slots: 2, offset: SLOT - 1, length: 0, gen: 3 });
  });

  it.each([0, -1, 1.5, NaN, Infinity, '4', null, true, [4]])('a bad slot count: %s', (slots) => {
    const { peer, good } = ready();
    refused(peer, { ...good, slots });
  });

  it('a refusal changes no generation and no reference count', () => {
    const { mem, peer, good } = ready();
    const before = meta(mem);
    refused(peer, { ...good, gen: 8 });
    refused(peer, { ...good, slots: 5 });
    refused(peer, { ...good, length: 4 * SLOT });
    expect(meta(mem)).toEqual(before);
  });
});

describe('pin and unpin of a run of slots', () => {
  it('pin(slot, n) and unpin(slot, n) count once on each of the n slots', () => {
    const { mem, owner, peer } = pool();
    owner.pin(1, 3);
    peer.pin(2, 2);
    expect(meta(mem).map(([, r]) => r)).toEqual([0, 1, 2, 2, 0, 0]);
    owner.unpin(1, 3);
    expect(meta(mem).map(([, r]) => r)).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it('unpin of a run with a slot not pinned unpins the others, leaves that one at zero, and throws naming it', () => {
    const { mem, owner } = pool();
    owner.pin(1, 2);
    owner.pin(4);
    expect(() => owner.unpin(1, 4)).toThrow(/slot 3/);
    expect(meta(mem).map(([, r]) => r)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('PoolBlocks hands out consecutive slots where it can', () => {
  it('blocks allocated one after another are consecutive slots', () => {
    const { owner } = pool();
    const blocks = new PoolBlocks(owner);
    expect(Array.from({ length: SLOTS }, () => owner.slotOf(blocks.alloc(SLOT)))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('after frees, the search goes on after the slot handed out last, wrapping round, past pinned and kept slots', async () => {
    const { owner, peer } = pool();
    const blocks = new PoolBlocks(owner);
    const all = Array.from({ length: SLOTS }, () => blocks.alloc(SLOT));
    for (const s of [0, 1, 3, 4]) blocks.free(all[s]);
    peer.pin(1);
    await endOfTask();
    expect([0, 1, 2].map(() => owner.slotOf(blocks.alloc(SLOT)))).toEqual([0, 3, 4]);
    expect(blocks.alloc(SLOT).buffer).toBeInstanceOf(ArrayBuffer); // slot 1 is pinned: a heap block
    peer.unpin(1);
    expect(owner.slotOf(blocks.alloc(SLOT))).toBe(1);
  });

  it('property: whatever the order of allocs and frees, no slot is handed out twice while it is held', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.constant(-1), fc.nat({ max: 20 })), { maxLength: 60 }), async (ops) => {
        const { owner } = pool();
        const blocks = new PoolBlocks(owner);
        const held: Uint8Array[] = [];
        for (const op of ops) {
          if (op === -1) {
            const b = blocks.alloc(SLOT);
            if (b.buffer === owner.mem.data) held.push(b);
          } else if (held.length > 0) {
            blocks.free(held.splice(op % held.length, 1)[0]);
            await endOfTask();
          }
          const slots = held.map((b) => owner.slotOf(b));
          expect(new Set(slots).size).toBe(slots.length);
        }
      }),
      { numRuns: 100, seed: 1996 },
    );
  });
});

describe('a file read into a pool-backed cache crosses as one extent', () => {
  /** The disk server in-process with its cache in a pool of `slots` 4 KiB slots, and a file set. */
  function diskOver(slots: number, cacheBlocks: number, files: { path: string; size: number }[]) {
    const image = mkfs(files, 'extents');
    const mem = newPoolMemory(0, slots, BLOCK_SIZE);
    const owner = new PoolMapping(mem);
    const ctx: ServerContext = {
      ...serverContext('disk', new Counters(), () => {
        throw new Error('the disk calls nobody');
      }),
      blocks: new PoolBlocks(owner),
    };
    const srv = bootServer(disk, { image, cacheBlocks }, ctx);
    const codec = sharedCodec([owner]);
    /** DISK_READ of `length` bytes at `offset` of inode `ino`, encoded for the wire as the disk's reply would be. */
    const read = (ino: number, offset: number, length: number) => {
      const r = srv.dispatch({ type: 'DISK_READ', ino, offset, length } as { type: string }) as { ok: true; value: { data: Uint8Array[] } };
      const enc = codec.encode(r.value, new Counters()).value;
      codec.abandon(enc);
      return { data: r.value.data, wire: enc.data as Descriptor[] };
    };
    return { mem, owner, read };
  }

  it('a whole 64-block file from a cold cache: 64 views, one descriptor of 64 slots', () => {
    const { read } = diskOver(256, 256, [{ path: '/big', size: 64 * BLOCK_SIZE }]);
    const { data, wire } = read(0, 0, 64 * BLOCK_SIZE);
    expect(data).toHaveLength(64);
    expect(wire).toHaveLength(1);
    expect(wire[0]).toMatchObject({ slots: 64, offset: 0, length: 64 * BLOCK_SIZE });
  });

  it('files read one after another, and read again from the cache, are one extent each; a part of one is one extent', () => {
    const sizes = [3 * BLOCK_SIZE + 17, 10 * BLOCK_SIZE, 1, 5 * BLOCK_SIZE - 1];
    const { read } = diskOver(64, 64, sizes.map((size, i) => ({ path: `/f${i}`, size })));
    for (let round = 0; round < 2; round++) {
      sizes.forEach((size, ino) => {
        const { wire } = read(ino, 0, size);
        expect(wire).toHaveLength(1);
        expect(wire[0].length).toBe(size);
      });
    }
    expect(read(1, BLOCK_SIZE + 100, 4 * BLOCK_SIZE).wire).toMatchObject([{ slots: 5, offset: 100, length: 4 * BLOCK_SIZE }]);
  });

  it('with a cache that evicts, the files read in turn still cross as few descriptors as the pool wraps round', async () => {
    // 6 files of 8 blocks through a 20-block cache in a pool with room for one more file, as the kernel sizes it
    const { read } = diskOver(28, 20, Array.from({ length: 6 }, (_, i) => ({ path: `/f${i}`, size: 8 * BLOCK_SIZE })));
    const counts: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let ino = 0; ino < 6; ino++) {
        const { wire } = read(ino, 0, 8 * BLOCK_SIZE);
        expect(wire.every((d) => !(d instanceof Uint8Array))).toBe(true); // every block in the pool
        counts.push(wire.length);
        await endOfTask(); // each read is its own task, as in the server
      }
    }
    expect(counts.every((n) => n <= 2)).toBe(true); // one run, or two where the pool wraps round
    expect(counts.filter((n) => n === 1).length).toBeGreaterThan(counts.length / 2);
  });
});
