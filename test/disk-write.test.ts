/**
 * DISK_WRITE in-process, on an image made by mkfs: write-through to the image
 * (every byte in its place, nothing else touched), copy-on-write of cached
 * blocks (a view handed out earlier keeps its bytes), no cache allocation for
 * uncached blocks, the refusals (EFBIG, EINVAL, ENOENT), the write counters, and
 * the `lose` fault (one acknowledged write that never reaches the image). Each
 * message is handled as the kernels handle it (faults/inject.ts handleMessage):
 * counted as the disk's next message, where a planned fault may strike.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Counters } from '../src/metrics/counters.js';
import type { Reply } from '../src/protocol.js';
import { disk } from '../src/servers/disk.js';
import { BLOCK_SIZE, mkfs, mount, type FileSpec } from '../src/servers/fs.js';
import { bootServer, type BlockAllocator, type ServerContext } from '../src/servers/server.js';
import { FaultInjector, newFaultBoard, struckFaults } from '../src/faults/inject.js';
import type { FaultSpec } from '../src/faults/plan.js';
import { bytes, concat } from './support/bytes.js';
import { handled, serverContext } from './support/contexts.js';

// One inode block (block 1), data from block 2:
//   /a   10 B                      block 2
//   /b   3 * 4096 + 100 = 12388 B  blocks 3, 4, 5, 6  (B0..B3 below)
//   /c   4096 B                    block 7
const FILES: FileSpec[] = [
  { path: '/a', size: 10 },
  { path: '/b', size: 3 * BLOCK_SIZE + 100 },
  { path: '/c', size: BLOCK_SIZE },
];
const A = 0;
const B = 1;
const C = 2;
const START = [2, 3, 7];
const SIZE = [10, 3 * BLOCK_SIZE + 100, BLOCK_SIZE];

const forbiddenCall = vi.fn(() => {
  throw new Error('the disk server must not call other servers');
});

afterEach(() => {
  expect(forbiddenCall).not.toHaveBeenCalled();
  forbiddenCall.mockClear();
});

/** A disk server on a fresh image, with an allocator that records what it allocates and frees. */
function boot(cacheBlocks = 64, fault?: FaultSpec) {
  const image = mkfs(FILES, 'disk-write');
  const original = new Uint8Array(image).slice();
  const allocated: Uint8Array[] = [];
  const freed: Uint8Array[] = [];
  const blocks: BlockAllocator = {
    alloc(n) {
      const b = new Uint8Array(n);
      allocated.push(b);
      return b;
    },
    free(b) {
      freed.push(b);
    },
  };
  const counters = new Counters();
  const ctx: ServerContext = { ...serverContext('disk', counters, forbiddenCall as unknown as ServerContext['call']), blocks };
  const srv = bootServer(disk, { image, cacheBlocks }, ctx);
  // the fault board and injector the kernels keep for the disk's domain
  const board = newFaultBoard(fault ? 1 : 0);
  const injector = fault ? new FaultInjector('disk', [fault], board, () => 0) : null;
  const send = (msg: { type: string; [k: string]: unknown }): any => handled(srv, msg, { injector }) as Reply<any>;
  /** The planned fault's record on the board: whether it struck, and at which message. */
  const struck = () => struckFaults(board, fault ? 1 : 0).map((f) => f.message);
  const write = (ino: number, offset: unknown, data: unknown) => send({ type: 'DISK_WRITE', ino, offset, data });
  const read = (ino: number, offset: number, length: number) => {
    const r = send({ type: 'DISK_READ', ino, offset, length });
    expect(r.ok).toBe(true);
    return r.value.data as Uint8Array[];
  };
  /** What the image should hold: the fresh image with `patches` ([ino, offset, bytes]) laid on it in order. */
  const expected = (...patches: [number, number, Uint8Array][]) => {
    const img = original.slice();
    for (const [ino, offset, b] of patches) img.set(b, START[ino] * BLOCK_SIZE + offset);
    return img;
  };
  const media = () => new Uint8Array(image);
  /** File bytes straight off the image. */
  const onImage = (ino: number, offset: number, n: number) => new Uint8Array(image, START[ino] * BLOCK_SIZE + offset, n).slice();
  return { image, original, counters, send, write, read, expected, media, onImage, allocated, freed, struck };
}

/** The first offset at which `a` and `b` differ (a length difference counts), or -1 if they are equal. */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** The whole image equals `want`, byte for byte (vitest's deep equality is slow on whole images). */
function expectImage(image: Uint8Array, want: Uint8Array): void {
  expect(firstDiff(image, want), 'first image offset that differs').toBe(-1);
}

/** `data` cut into slices of `sizes` (the last takes the rest). */
function cut(data: Uint8Array, ...sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const n of sizes) {
    out.push(data.subarray(at, at + n));
    at += n;
  }
  out.push(data.subarray(at));
  return out;
}

describe('the layout these tests assume', () => {
  it('mkfs puts /a, /b and /c where the tests write', () => {
    const { image } = boot();
    expect(mount(image).inodes.map((i) => [i.ino, i.startBlock, i.size])).toEqual([
      [A, START[A], SIZE[A]],
      [B, START[B], SIZE[B]],
      [C, START[C], SIZE[C]],
    ]);
    expect(image.byteLength).toBe(8 * BLOCK_SIZE);
  });
});

describe('DISK_WRITE writes through to the image', () => {
  it('inside one block: those bytes change, and nothing else on the image', () => {
    const d = boot();
    const data = bytes(50, 7);
    expect(d.write(B, 100, [data])).toEqual({ ok: true, value: { length: 50 } });
    expectImage(d.media(), d.expected([B, 100, data]));
    expect(firstDiff(d.media(), d.original)).toBe(START[B] * BLOCK_SIZE + 100); // the write really changed something
  });

  it('across block boundaries, from a payload of several slices cut elsewhere than the blocks', () => {
    const d = boot();
    const data = bytes(5000, 11); // file bytes 4000..8999: 96 in B0, 4096 in B1, 808 in B2
    // slices of 1, 95, 0, 3000 and 1904 bytes; one of them a view into the middle of a larger buffer
    const big = bytes(6000, 0);
    big.set(data.subarray(96, 3096), 1000);
    const slices = [data.subarray(0, 1), data.subarray(1, 96), new Uint8Array(0), big.subarray(1000, 4000), data.subarray(3096)];
    expect(slices.reduce((n, s) => n + s.length, 0)).toBe(5000);
    expect(d.write(B, 4000, slices)).toEqual({ ok: true, value: { length: 5000 } });
    expectImage(d.media(), d.expected([B, 4000, data]));
  });

  it('slice and block boundaries in the same places', () => {
    const d = boot();
    const data = bytes(2 * BLOCK_SIZE, 5);
    expect(d.write(B, BLOCK_SIZE, cut(data, BLOCK_SIZE))).toEqual({ ok: true, value: { length: 2 * BLOCK_SIZE } });
    expectImage(d.media(), d.expected([B, BLOCK_SIZE, data]));
  });

  it('the whole file, up to its last byte, and not a byte of the block past it', () => {
    const d = boot();
    const data = bytes(SIZE[B], 99);
    expect(d.write(B, 0, cut(data, 10, 5000, 4096))).toEqual({ ok: true, value: { length: SIZE[B] } });
    expectImage(d.media(), d.expected([B, 0, data]));
    // the rest of /b's last block is as mkfs left it (zero), and /c after it is untouched
    expect(d.media().subarray((START[B] + 3) * BLOCK_SIZE + 100, START[C] * BLOCK_SIZE).every((x) => x === 0)).toBe(true);
    expect(d.onImage(C, 0, SIZE[C])).toEqual(d.original.subarray(START[C] * BLOCK_SIZE, (START[C] + 1) * BLOCK_SIZE));
  });

  it('the last bytes of a file, and every byte of a small one', () => {
    const d = boot();
    const tail = bytes(5, 1);
    const small = bytes(10, 2);
    expect(d.write(B, SIZE[B] - 5, [tail])).toEqual({ ok: true, value: { length: 5 } });
    expect(d.write(A, 0, [small.subarray(0, 3), small.subarray(3)])).toEqual({ ok: true, value: { length: 10 } });
    expectImage(d.media(), d.expected([B, SIZE[B] - 5, tail], [A, 0, small]));
  });

  it('later writes over earlier ones: the image holds the last bytes written', () => {
    const d = boot();
    const first = bytes(300, 1);
    const second = bytes(100, 200);
    d.write(C, 1000, [first]);
    d.write(C, 1100, [second]);
    expectImage(d.media(), d.expected([C, 1000, first], [C, 1100, second]));
  });

  it('zero bytes, anywhere up to the end of the file, write nothing and succeed', () => {
    const d = boot();
    expect(d.write(B, 0, [])).toEqual({ ok: true, value: { length: 0 } });
    expect(d.write(B, 7000, [new Uint8Array(0), new Uint8Array(0)])).toEqual({ ok: true, value: { length: 0 } });
    expect(d.write(B, SIZE[B], [])).toEqual({ ok: true, value: { length: 0 } });
    expectImage(d.media(), d.original);
  });

  it('the bytes are copied: changing the caller’s buffer afterwards changes neither the image nor the cache', () => {
    const d = boot();
    d.read(B, 0, BLOCK_SIZE); // cache B0, so the write also makes a cache copy
    const data = bytes(64, 3);
    d.write(B, 0, [data]);
    data.fill(0xee);
    expect(d.onImage(B, 0, 64)).toEqual(bytes(64, 3));
    expect(concat(d.read(B, 0, 64))).toEqual(bytes(64, 3));
  });

  it('the reply is synchronous: the bytes are on the image by the time it exists', () => {
    const d = boot();
    const r = d.write(B, 10, [bytes(4, 9)]);
    expect(r).not.toBeInstanceOf(Promise);
    expect(d.onImage(B, 10, 4)).toEqual(bytes(4, 9));
  });
});

describe('DISK_WRITE and the buffer cache', () => {
  it('a view from an earlier DISK_READ keeps its old bytes; a new DISK_READ sees the new ones (copy-on-write)', () => {
    const d = boot();
    const [view] = d.read(B, 0, BLOCK_SIZE);
    const old = view.slice();
    const data = bytes(20, 123);
    expect(d.write(B, 10, [data]).ok).toBe(true);
    expect(view).toEqual(old);
    const [fresh] = d.read(B, 0, BLOCK_SIZE);
    expect(fresh.buffer).not.toBe(view.buffer);
    const want = old.slice();
    want.set(data, 10);
    expect(fresh).toEqual(want);
    expect(fresh).toEqual(d.onImage(B, 0, BLOCK_SIZE));
  });

  it('views over several blocks: the touched blocks are copied, an untouched one is still shared', () => {
    const d = boot();
    const before = d.read(B, 0, SIZE[B]);
    const copies = before.map((s) => s.slice());
    d.write(B, 4000, [bytes(5000, 1)]); // touches B0, B1, B2; not B3
    before.forEach((s, i) => expect(s, `block ${i}`).toEqual(copies[i]));
    const after = d.read(B, 0, SIZE[B]);
    expect(concat(after)).toEqual(d.onImage(B, 0, SIZE[B]));
    for (const i of [0, 1, 2]) expect(after[i].buffer, `block ${i}`).not.toBe(before[i].buffer);
    expect(after[3].buffer).toBe(before[3].buffer);
  });

  it('each cached block a write touches gets one new block, and the old one is given back to the allocator', () => {
    const d = boot();
    const before = d.read(B, 0, 2 * BLOCK_SIZE); // B0, B1
    expect(d.allocated).toHaveLength(2);
    expect(d.freed).toHaveLength(0);
    d.write(B, 4000, [bytes(200, 1)]); // B0 and B1
    expect(d.allocated).toHaveLength(4);
    // identity, not contents: the very blocks the first read handed out views of
    expect(d.freed).toHaveLength(2);
    expect(d.freed[0].buffer).toBe(before[0].buffer);
    expect(d.freed[1].buffer).toBe(before[1].buffer);
    const after = d.read(B, 0, 2 * BLOCK_SIZE);
    expect(after[0].buffer).toBe(d.allocated[2].buffer);
    expect(after[1].buffer).toBe(d.allocated[3].buffer);
  });

  it('a write to a cached block keeps it cached: the next read is a hit, and nothing is read from the media', () => {
    const d = boot();
    d.read(B, 0, BLOCK_SIZE);
    d.write(B, 0, [bytes(100, 1)]);
    const hits = d.counters.get('cacheHits');
    const misses = d.counters.get('cacheMisses');
    const blocksRead = d.counters.get('diskBlocksRead');
    expect(concat(d.read(B, 0, 100))).toEqual(bytes(100, 1));
    expect(d.counters.get('cacheHits')).toBe(hits + 1);
    expect(d.counters.get('cacheMisses')).toBe(misses);
    expect(d.counters.get('diskBlocksRead')).toBe(blocksRead);
  });

  it('two writes in a row: each view sees the block as it was when it was read', () => {
    const d = boot();
    const [v0] = d.read(C, 0, 64);
    const s0 = v0.slice();
    d.write(C, 0, [bytes(8, 1)]);
    const [v1] = d.read(C, 0, 64);
    const s1 = v1.slice();
    d.write(C, 4, [bytes(8, 50)]);
    const [v2] = d.read(C, 0, 64);
    expect(v0).toEqual(s0);
    expect(v1).toEqual(s1);
    expect(s1.subarray(0, 8)).toEqual(bytes(8, 1));
    expect(v2.subarray(0, 4)).toEqual(bytes(4, 1));
    expect(v2.subarray(4, 12)).toEqual(bytes(8, 50));
    expect(v2.subarray(12)).toEqual(s0.subarray(12));
  });

  it('writes to blocks that are not cached allocate no cache block; the next read misses and finds the bytes on the media', () => {
    const d = boot();
    const data = bytes(SIZE[B], 4);
    d.write(B, 0, [data]);
    expect(d.allocated).toHaveLength(0);
    expect(d.counters.get('cacheMisses') + d.counters.get('cacheHits')).toBe(0);
    expect(concat(d.read(B, 0, SIZE[B]))).toEqual(data);
    expect(d.counters.get('cacheMisses')).toBe(4);
    expect(d.counters.get('cacheHits')).toBe(0);
    expect(d.counters.get('diskBlocksRead')).toBe(4);
  });

  it('with a 2-block cache, writes to uncached blocks evict nothing', () => {
    const d = boot(2);
    d.read(B, 0, 2 * BLOCK_SIZE); // cache [B0 B1]
    d.write(B, 2 * BLOCK_SIZE, [bytes(BLOCK_SIZE + 100, 1)]); // B2 and B3, neither cached
    d.write(C, 0, [bytes(10, 1)]);
    expect(d.allocated).toHaveLength(2);
    expect(d.freed).toHaveLength(0);
    d.read(B, 0, 2 * BLOCK_SIZE); // both still there
    expect(d.counters.get('cacheHits')).toBe(2);
    expect(d.counters.get('cacheMisses')).toBe(2);
  });

  it('a write over a cached and an uncached block copies only the cached one; a read then sees both', () => {
    const d = boot();
    d.read(B, 0, BLOCK_SIZE); // B0 cached, B1 not
    const data = bytes(200, 9);
    d.write(B, 4000, [data]);
    expect(d.allocated).toHaveLength(2); // B0 at the read, its copy at the write
    const hits = d.counters.get('cacheHits');
    const misses = d.counters.get('cacheMisses');
    expect(concat(d.read(B, 4000, 200))).toEqual(data);
    expect(d.counters.get('cacheHits')).toBe(hits + 1); // B0
    expect(d.counters.get('cacheMisses')).toBe(misses + 1); // B1
  });

  it('a written cached block becomes the most recently used', () => {
    const d = boot(2);
    const touch = (offset: number) => d.read(B, offset, 1);
    touch(0); //                      B0 miss   cache [B0]
    touch(BLOCK_SIZE); //             B1 miss   cache [B0 B1]
    d.write(B, 0, [bytes(1, 1)]); //  B0 copied cache [B1 B0]
    touch(2 * BLOCK_SIZE); //         B2 miss, evicts B1: cache [B0 B2]
    touch(0); //                      B0 hit
    touch(BLOCK_SIZE); //             B1 miss
    expect(d.counters.get('cacheHits')).toBe(1);
    expect(d.counters.get('cacheMisses')).toBe(4);
  });
});

describe('DISK_WRITE refusals change nothing', () => {
  /** Nothing written, counted, cached or allocated. */
  function expectUntouched(d: ReturnType<typeof boot>) {
    expectImage(d.media(), d.original);
    expect(d.counters.get('diskWrites')).toBe(0);
    expect(d.counters.get('diskBytesWritten')).toBe(0);
    expect(d.counters.get('diskBlocksWritten')).toBe(0);
    expect(d.allocated).toHaveLength(0);
  }

  // [ino, offset, length]
  const pastEnd: [number, number, number][] = [
    [B, SIZE[B], 1],
    [B, SIZE[B] - 1, 2],
    [B, 0, SIZE[B] + 1],
    [B, 20000, 0],
    [B, SIZE[B] + 1, 0],
    [A, 10, 1],
    [A, 0, 11],
    [C, 4000, 200],
  ];
  for (const [ino, offset, length] of pastEnd) {
    it(`EFBIG for ${length} bytes at ${offset} of the ${SIZE[ino]}-byte file`, () => {
      const d = boot();
      const r = d.write(ino, offset, [bytes(length, 1)]);
      expect(r).toMatchObject({ ok: false, errno: 'EFBIG' });
      expectUntouched(d);
    });
  }

  it('EFBIG leaves the file whole: no prefix of the write is on the image', () => {
    const d = boot();
    expect(d.write(B, SIZE[B] - 100, [bytes(50, 1), bytes(51, 2)])).toMatchObject({ ok: false, errno: 'EFBIG' });
    expectUntouched(d);
  });

  for (const offset of [-1, 0.5, NaN, Infinity, '0', null, undefined, 2n]) {
    it(`EINVAL for offset ${String(offset)} (${typeof offset})`, () => {
      const d = boot();
      expect(d.write(B, offset, [bytes(4, 1)])).toMatchObject({ ok: false, errno: 'EINVAL' });
      expectUntouched(d);
    });
  }

  const badData: [string, unknown][] = [
    ['one Uint8Array, not an array of them', bytes(4, 1)],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'abcd'],
    ['an array of numbers', [1, 2, 3]],
    ['an array holding a plain array', [[1, 2, 3]]],
    ['an array holding a string', ['abcd']],
    ['a Uint8Array and a number', [bytes(2), 5]],
    ['a Uint16Array', [new Uint16Array(2)]],
    ['a Uint8ClampedArray', [new Uint8ClampedArray(4)]],
    ['an ArrayBuffer', [new ArrayBuffer(4)]],
    ['a DataView', [new DataView(new ArrayBuffer(4))]],
    ['an array-like object', { length: 1, 0: bytes(1) }],
  ];
  for (const [what, data] of badData) {
    it(`EINVAL for data that is ${what}`, () => {
      const d = boot();
      expect(d.write(B, 0, data)).toMatchObject({ ok: false, errno: 'EINVAL' });
      expectUntouched(d);
    });
  }

  for (const ino of [3, 99, -1, 1.5, NaN, '1', undefined, null]) {
    it(`ENOENT for inode ${String(ino)} (${typeof ino})`, () => {
      const d = boot();
      expect(d.send({ type: 'DISK_WRITE', ino, offset: 0, data: [bytes(1, 1)] })).toMatchObject({ ok: false, errno: 'ENOENT' });
      expectUntouched(d);
    });
  }

  it('a refused write changes nothing in the cache either, and the server goes on writing', () => {
    const d = boot();
    const [view] = d.read(B, 0, BLOCK_SIZE);
    const old = view.slice();
    d.write(B, SIZE[B] - 1, [bytes(2)]);
    d.write(B, -1, [bytes(2)]);
    d.write(B, 0, 'xx');
    d.write(42, 0, [bytes(2)]);
    expect(d.allocated).toHaveLength(1);
    expect(concat(d.read(B, 0, BLOCK_SIZE))).toEqual(old);
    expect(d.write(B, 0, [bytes(2, 8)])).toEqual({ ok: true, value: { length: 2 } });
    expectImage(d.media(), d.expected([B, 0, bytes(2, 8)]));
  });
});

describe('DISK_WRITE counters', () => {
  it('diskWrites, diskBytesWritten and diskBlocksWritten count each accepted write exactly', () => {
    const d = boot();
    const after = () => [d.counters.get('diskWrites'), d.counters.get('diskBytesWritten'), d.counters.get('diskBlocksWritten')];
    d.write(B, 100, [bytes(50)]); //                  1 block
    expect(after()).toEqual([1, 50, 1]);
    d.write(B, 4000, [bytes(5000)]); //               96 + 4096 + 808: 3 blocks
    expect(after()).toEqual([2, 5050, 4]);
    d.write(B, BLOCK_SIZE, [bytes(BLOCK_SIZE)]); //   exactly one block
    expect(after()).toEqual([3, 5050 + 4096, 5]);
    d.write(B, BLOCK_SIZE - 1, [bytes(2)]); //        2 bytes, 2 blocks
    expect(after()).toEqual([4, 5050 + 4096 + 2, 7]);
    d.write(A, 0, [bytes(3), bytes(7)]); //           2 slices, 1 block
    expect(after()).toEqual([5, 5050 + 4096 + 2 + 10, 8]);
    d.write(B, 0, [bytes(SIZE[B])]); //               the whole file: 4 blocks
    expect(after()).toEqual([6, 5050 + 4096 + 2 + 10 + SIZE[B], 12]);
    d.write(C, 0, []); //                             a write of nothing: no block
    expect(after()).toEqual([7, 5050 + 4096 + 2 + 10 + SIZE[B], 12]);
    // refused: not counted as writes
    d.write(C, 1, [bytes(BLOCK_SIZE)]);
    d.write(C, -1, [bytes(1)]);
    d.write(9, 0, [bytes(1)]);
    expect(after()).toEqual([7, 5050 + 4096 + 2 + 10 + SIZE[B], 12]);
    expect(d.counters.get('messagesHandled')).toBe(10);
  });

  it('writing reads nothing: no diskReads, no cache lookups, no blocks read', () => {
    const d = boot();
    d.write(B, 0, [bytes(SIZE[B])]);
    d.write(A, 0, [bytes(10)]);
    for (const name of ['diskReads', 'diskBlocksRead', 'cacheHits', 'cacheMisses', 'diskLookups'] as const) {
      expect(d.counters.get(name), name).toBe(0);
    }
  });
});

describe("the 'lose' fault: one write acknowledged and not on the image", () => {
  const lose = (atMessage: number, server: FaultSpec['server'] = 'disk'): FaultSpec => ({ server, kind: 'lose', trigger: { on: 'message', at: atMessage } });

  it('the first DISK_WRITE at or after message N is acknowledged but not on the image; the cache still sees it', () => {
    const d = boot(64, lose(3));
    const x = bytes(8, 1);
    const y = bytes(8, 100);
    const z = bytes(8, 200);
    const w = bytes(300, 50);
    d.read(B, 0, BLOCK_SIZE); //                                    message 1: B0 cached
    expect(d.write(B, 0, [x])).toEqual({ ok: true, value: { length: 8 } }); // message 2: before N, written
    expect(d.send({ type: 'DISK_LOOKUP', path: '/b' }).ok).toBe(true); // message 3: N, not a write: nothing happens
    expect(d.write(B, 100, [y])).toEqual({ ok: true, value: { length: 8 } }); // message 4: the lost one
    expect(d.struck()).toEqual([4]); // the board records where it struck: the write, not message N
    expect(d.onImage(B, 100, 8)).toEqual(d.original.subarray(START[B] * BLOCK_SIZE + 100, START[B] * BLOCK_SIZE + 108));
    expect(concat(d.read(B, 100, 8))).toEqual(y); //                message 5: through the cache
    expect(d.write(B, 200, [z]).ok).toBe(true); //                 message 6: written
    expect(d.write(B, 5000, [w]).ok).toBe(true); //                message 7: written (uncached block)
    expectImage(d.media(), d.expected([B, 0, x], [B, 200, z], [B, 5000, w]));
    // the lost write still counts as a write: the disk believes it did it
    expect(d.counters.get('diskWrites')).toBe(4);
    expect(d.counters.get('diskBytesWritten')).toBe(8 + 8 + 8 + 300);
  });

  it('the write at message N itself is the one lost', () => {
    const d = boot(64, lose(2));
    const first = bytes(16, 1);
    const second = bytes(16, 2);
    const third = bytes(16, 3);
    d.write(C, 0, [first]); //   message 1
    d.write(C, 100, [second]); // message 2: lost
    d.write(C, 200, [third]); // message 3
    expectImage(d.media(), d.expected([C, 0, first], [C, 200, third]));
    expect(d.struck()).toEqual([2]);
  });

  it('a lost write to an uncached block is nowhere: a later read misses and gets the old bytes from the image', () => {
    const d = boot(64, lose(1));
    const old = d.onImage(B, BLOCK_SIZE, 32);
    expect(d.write(B, BLOCK_SIZE, [bytes(32, 9)])).toEqual({ ok: true, value: { length: 32 } });
    expectImage(d.media(), d.original);
    expect(concat(d.read(B, BLOCK_SIZE, 32))).toEqual(old);
    expect(d.counters.get('cacheMisses')).toBe(1);
  });

  it('a lost write over a cached and an uncached block: the cached part is seen, the rest is not, the image has none', () => {
    const d = boot(64, lose(2));
    const [b0] = d.read(B, 0, BLOCK_SIZE); // message 1: B0 cached
    const oldB1 = d.onImage(B, BLOCK_SIZE, 104);
    const data = bytes(200, 40);
    expect(d.write(B, 4000, [data]).ok).toBe(true); // message 2: lost
    expectImage(d.media(), d.original);
    const seen = concat(d.read(B, 4000, 200));
    expect(seen.subarray(0, 96)).toEqual(data.subarray(0, 96));
    expect(seen.subarray(96)).toEqual(oldB1);
    expect(b0).toEqual(d.original.subarray(START[B] * BLOCK_SIZE, (START[B] + 1) * BLOCK_SIZE)); // the old view kept its bytes
  });

  it('only one write is lost, however many follow', () => {
    const d = boot(8, lose(1));
    const patches: [number, number, Uint8Array][] = [];
    d.write(A, 0, [bytes(10, 200)]); // lost
    for (let k = 0; k < 20; k++) {
      const data = bytes(100, k);
      const offset = (k * 611) % (SIZE[B] - 100);
      expect(d.write(B, offset, [data]).ok).toBe(true);
      patches.push([B, offset, data]);
    }
    expectImage(d.media(), d.expected(...patches));
    expect(d.onImage(A, 0, 10)).toEqual(d.original.subarray(START[A] * BLOCK_SIZE, START[A] * BLOCK_SIZE + 10));
  });

  it('no write at or after message N: nothing is lost, and reaching message N crashes nothing', () => {
    const d = boot(64, lose(3));
    const data = bytes(10, 3);
    d.write(A, 0, [data]); // message 1
    expect(() => d.read(B, 0, 10)).not.toThrow(); // message 2
    expect(() => d.read(B, 0, 10)).not.toThrow(); // message 3 = N
    expect(() => d.send({ type: 'DISK_STAT', ino: B })).not.toThrow(); // message 4
    expectImage(d.media(), d.expected([A, 0, data]));
    expect(d.struck()).toEqual([]);
  });

  it("a 'lose' fault planned for another server loses nothing on the disk", () => {
    const d = boot(64, lose(1, 'app'));
    const data = bytes(10, 3);
    d.write(A, 0, [data]);
    expectImage(d.media(), d.expected([A, 0, data]));
    expect(d.struck()).toEqual([]);
  });

  it('without a fault, every write is on the image (the control for the tests above)', () => {
    const d = boot(64);
    const data = bytes(32, 9);
    d.write(B, BLOCK_SIZE, [data]);
    expectImage(d.media(), d.expected([B, BLOCK_SIZE, data]));
  });
});
