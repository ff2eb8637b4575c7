/**
 * The disk server in-process: mkfs/mount round trip (src/servers/fs.ts) and the
 * DISK_* handlers called through `bootServer(disk, ...)` with a hand-made
 * ServerContext, each message handled as the kernels handle it (counted in
 * `messagesHandled`). The disk server never calls anyone, so `call` fails the test.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Counters } from '../src/metrics/counters.js';
import type { Reply } from '../src/protocol.js';
import { disk } from '../src/servers/disk.js';
import { BLOCK_SIZE, INODE_BYTES, mkfs, mount, type FileSpec } from '../src/servers/fs.js';
import { bootServer, type ServerContext } from '../src/servers/server.js';
import { concat } from './support/bytes.js';
import { handled, serverContext } from './support/contexts.js';

// Layout by hand: 4 inodes * 128 B fit in one inode block (block 1), data from block 2.
//   /a      10 B    block 2
//   /b      8292 B  blocks 3, 4, 5   (2 * 4096 + 100)
//   /empty  0 B     no block (starts at 6)
//   /c      4096 B  block 6
// total 7 blocks
const FILES: FileSpec[] = [
  { path: '/a', size: 10 },
  { path: '/b', size: 2 * 4096 + 100 },
  { path: '/empty', size: 0 },
  { path: '/c', size: 4096 },
];
const A = 0;
const B = 1;
const EMPTY = 2;
const C = 3;
const B_SIZE = 8292;

const forbiddenCall = vi.fn(() => {
  throw new Error('the disk server must not call other servers');
});

afterEach(() => {
  expect(forbiddenCall).not.toHaveBeenCalled();
  forbiddenCall.mockClear();
});

function boot(cacheBlocks = 64, files: FileSpec[] = FILES) {
  const image = mkfs(files, 'seed-1');
  const counters = new Counters();
  const ctx = serverContext('disk', counters, forbiddenCall as unknown as ServerContext['call']);
  const srv = bootServer(disk, { image, cacheBlocks }, ctx);
  // disk handlers answer synchronously; `any` lets tests read `.value` after checking `.ok`
  const send = (msg: { type: string; [k: string]: unknown }): any => handled(srv, msg) as Reply<any>;
  return { image, counters, srv, send };
}

/** The bytes [offset, offset+n) of the file whose data starts at block `startBlock`, straight off the image. */
function imageBytes(image: SharedArrayBuffer, startBlock: number, offset: number, n: number): Uint8Array {
  return new Uint8Array(image, startBlock * BLOCK_SIZE + offset, n).slice();
}

describe('mkfs and mount', () => {
  it('mount reads back the superblock and inodes that mkfs laid out', () => {
    const image = mkfs(FILES, 7);
    expect(image.byteLength).toBe(7 * BLOCK_SIZE);
    const { sb, inodes } = mount(image);
    expect(sb).toEqual({ blockSize: 4096, inodeCount: 4, inodeStart: 1, inodeBlocks: 1, dataStart: 2, totalBlocks: 7 });
    expect(inodes).toEqual([
      { ino: 0, path: '/a', startBlock: 2, size: 10 },
      { ino: 1, path: '/b', startBlock: 3, size: 8292 },
      { ino: 2, path: '/empty', startBlock: 6, size: 0 },
      { ino: 3, path: '/c', startBlock: 6, size: 4096 },
    ]);
  });

  it('the inode table grows by whole blocks: 33 files need 2 inode blocks', () => {
    const files = Array.from({ length: 33 }, (_, i) => ({ path: `/f${i}`, size: 1 }));
    expect(33 * INODE_BYTES).toBeGreaterThan(BLOCK_SIZE);
    const { sb, inodes } = mount(mkfs(files, 1));
    expect(sb.inodeBlocks).toBe(2);
    expect(sb.dataStart).toBe(3);
    expect(sb.totalBlocks).toBe(3 + 33);
    expect(inodes[32]).toEqual({ ino: 32, path: '/f32', startBlock: 3 + 32, size: 1 });
  });

  it('non-ASCII paths round trip', () => {
    const { inodes } = mount(mkfs([{ path: '/café/naïve', size: 3 }], 1));
    expect(inodes[0].path).toBe('/café/naïve');
  });

  it('mkfs refuses duplicate paths, over-long paths and bad sizes', () => {
    expect(() => mkfs([{ path: '/x', size: 1 }, { path: '/x', size: 2 }], 1)).toThrow(/duplicate/);
    expect(() => mkfs([{ path: '/' + 'p'.repeat(200), size: 1 }], 1)).toThrow(/too long/);
    expect(() => mkfs([{ path: '/x', size: -1 }], 1)).toThrow(/bad size/);
    expect(() => mkfs([{ path: '/x', size: 1.5 }], 1)).toThrow(/bad size/);
  });

  it('mount refuses an image without the magic number', () => {
    expect(() => mount(new SharedArrayBuffer(BLOCK_SIZE))).toThrow(/magic/);
  });

  it("a file's contents depend on seed and path only, not on the other files", () => {
    const alone = mkfs([{ path: '/x', size: 5000 }], 'S');
    const crowd = mkfs(
      [
        { path: '/first', size: 7000 },
        { path: '/x', size: 5000 },
        { path: '/z', size: 3 },
      ],
      'S',
    );
    const xAlone = mount(alone).inodes[0];
    const xCrowd = mount(crowd).inodes[1];
    expect(xCrowd.startBlock).not.toBe(xAlone.startBlock); // it really moved
    const bytesAlone = imageBytes(alone, xAlone.startBlock, 0, 5000);
    expect(imageBytes(crowd, xCrowd.startBlock, 0, 5000)).toEqual(bytesAlone);
    // and the contents are not trivially constant
    expect(new Set(bytesAlone).size).toBeGreaterThan(200);
  });

  it('another seed or another path gives other contents', () => {
    const one = mkfs([{ path: '/x', size: 64 }, { path: '/y', size: 64 }], 'S');
    const two = mkfs([{ path: '/x', size: 64 }], 'T');
    const [x, y] = mount(one).inodes;
    expect(imageBytes(one, x.startBlock, 0, 64)).not.toEqual(imageBytes(one, y.startBlock, 0, 64));
    expect(imageBytes(one, x.startBlock, 0, 64)).not.toEqual(imageBytes(two, mount(two).inodes[0].startBlock, 0, 64));
  });
});

describe('disk: DISK_LOOKUP and DISK_STAT', () => {
  it('lookup finds each file by path and counts diskLookups', () => {
    const { send, counters } = boot();
    expect(send({ type: 'DISK_LOOKUP', path: '/b' })).toEqual({ ok: true, value: { ino: B, size: B_SIZE } });
    expect(send({ type: 'DISK_LOOKUP', path: '/empty' })).toEqual({ ok: true, value: { ino: EMPTY, size: 0 } });
    expect(counters.get('diskLookups')).toBe(2);
    expect(counters.get('messagesHandled')).toBe(2);
  });

  it('lookup of a missing path is ENOENT naming the path', () => {
    const { send } = boot();
    expect(send({ type: 'DISK_LOOKUP', path: '/nope' })).toEqual({ ok: false, errno: 'ENOENT', detail: '/nope' });
    expect(send({ type: 'DISK_LOOKUP', path: 'a' })).toMatchObject({ ok: false, errno: 'ENOENT' });
    expect(send({ type: 'DISK_LOOKUP', path: '__proto__' })).toMatchObject({ ok: false, errno: 'ENOENT' });
  });

  it('lookup with a non-string path is ENOENT, not a crash', () => {
    const { send } = boot();
    expect(send({ type: 'DISK_LOOKUP', path: 42 })).toMatchObject({ ok: false, errno: 'ENOENT' });
  });

  it('stat gives size and blocks', () => {
    const { send } = boot();
    expect(send({ type: 'DISK_STAT', ino: B })).toEqual({ ok: true, value: { ino: B, size: 8292, blocks: 3 } });
    expect(send({ type: 'DISK_STAT', ino: A })).toEqual({ ok: true, value: { ino: A, size: 10, blocks: 1 } });
    expect(send({ type: 'DISK_STAT', ino: C })).toEqual({ ok: true, value: { ino: C, size: 4096, blocks: 1 } });
    expect(send({ type: 'DISK_STAT', ino: EMPTY })).toEqual({ ok: true, value: { ino: EMPTY, size: 0, blocks: 0 } });
  });

  it('stat of an inode that does not exist is ENOENT', () => {
    const { send } = boot();
    for (const ino of [4, -1, 1.5, NaN, '1']) {
      expect(send({ type: 'DISK_STAT', ino })).toMatchObject({ ok: false, errno: 'ENOENT' });
    }
  });
});

describe('disk: DISK_READ returns exactly the image bytes', () => {
  // [offset, length, expected returned length, expected number of slices]
  const cases: [string, number, number, number, number][] = [
    ['whole file', 0, B_SIZE, B_SIZE, 3],
    ['inside one block', 100, 50, 50, 1],
    ['crossing one block boundary', 4000, 200, 200, 2], // 96 + 104
    ['from inside block 0 to past EOF', 4000, 5000, 96 + 4096 + 100, 3],
    ['exactly the second block', 4096, 4096, 4096, 1],
    ['the tail, clamped at EOF', 8200, 1000, 92, 1],
    ['at EOF', 8292, 10, 0, 0],
    ['past EOF', 10000, 10, 0, 0],
    ['zero length', 123, 0, 0, 0],
  ];
  for (const [what, offset, length, n, slices] of cases) {
    it(`/b ${what}: offset ${offset} length ${length} -> ${n} bytes in ${slices} slices`, () => {
      const { send, image } = boot();
      const r = send({ type: 'DISK_READ', ino: B, offset, length });
      expect(r.ok).toBe(true);
      expect(r.value.length).toBe(n);
      expect(r.value.data).toHaveLength(slices);
      expect(concat(r.value.data)).toEqual(imageBytes(image, 3, Math.min(offset, B_SIZE), n));
    });
  }

  it('slices are cut at block boundaries: 96 + 4096 + 100', () => {
    const { send } = boot();
    const r = send({ type: 'DISK_READ', ino: B, offset: 4000, length: 1e9 });
    expect(r.value.data.map((s: Uint8Array) => s.length)).toEqual([96, 4096, 100]);
  });

  it('small and empty files', () => {
    const { send, image } = boot();
    const a = send({ type: 'DISK_READ', ino: A, offset: 0, length: 4096 });
    expect(a.value.length).toBe(10);
    expect(concat(a.value.data)).toEqual(imageBytes(image, 2, 0, 10));
    expect(send({ type: 'DISK_READ', ino: EMPTY, offset: 0, length: 100 })).toEqual({
      ok: true,
      value: { data: [], length: 0 },
    });
    const c = send({ type: 'DISK_READ', ino: C, offset: 0, length: 4096 });
    expect(concat(c.value.data)).toEqual(imageBytes(image, 6, 0, 4096));
  });

  it('slices are views of the server cache, not of the shared image', () => {
    const { send } = boot();
    const r = send({ type: 'DISK_READ', ino: B, offset: 0, length: B_SIZE });
    for (const s of r.value.data as Uint8Array[]) {
      expect(s.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      expect(s.buffer.byteLength).toBe(BLOCK_SIZE);
    }
  });

  it('negative or non-integer offset/length is EINVAL and reads nothing', () => {
    const { send, counters } = boot();
    for (const [offset, length] of [
      [-1, 10],
      [0, -1],
      [0.5, 10],
      [0, 2.5],
      [NaN, 1],
      ['0', 1],
    ]) {
      expect(send({ type: 'DISK_READ', ino: B, offset, length })).toMatchObject({ ok: false, errno: 'EINVAL' });
    }
    expect(counters.get('diskReads')).toBe(0);
    expect(counters.get('diskBlocksRead')).toBe(0);
  });

  it('reading an inode that does not exist is ENOENT', () => {
    const { send } = boot();
    expect(send({ type: 'DISK_READ', ino: 99, offset: 0, length: 1 })).toMatchObject({ ok: false, errno: 'ENOENT' });
  });
});

describe('disk: LRU buffer cache with cacheBlocks = 2', () => {
  // blocks of /b: B0 (file bytes 0..4095), B1 (4096..8191), B2 (8192..8291)
  it('a hand-computed access sequence gives exact hits, misses and blocks read', () => {
    const { send, counters } = boot(2);
    const touch = (offset: number) => send({ type: 'DISK_READ', ino: B, offset, length: 1 });
    touch(0); //    B0 miss          cache [B0]
    touch(4096); // B1 miss          cache [B0 B1]
    touch(0); //    B0 hit           cache [B1 B0]
    touch(8192); // B2 miss, evict B1 cache [B0 B2]   (FIFO would evict B0)
    touch(4096); // B1 miss, evict B0 cache [B2 B1]
    touch(8192); // B2 hit           cache [B1 B2]
    touch(0); //    B0 miss, evict B1 cache [B2 B0]
    expect(counters.get('cacheHits')).toBe(2);
    expect(counters.get('cacheMisses')).toBe(5);
    expect(counters.get('diskBlocksRead')).toBe(5);
    expect(counters.get('diskReads')).toBe(7);
  });

  it('a sequential scan of 3 blocks through a 2-block cache never hits', () => {
    const { send, counters } = boot(2);
    send({ type: 'DISK_READ', ino: B, offset: 0, length: B_SIZE }); // 3 misses
    send({ type: 'DISK_READ', ino: B, offset: 0, length: B_SIZE }); // B0 evicted by B2, and so on: 3 misses
    expect(counters.get('cacheHits')).toBe(0);
    expect(counters.get('cacheMisses')).toBe(6);
    expect(counters.get('diskBlocksRead')).toBe(6);
  });

  it('the same scan through a 3-block cache hits every block the second time', () => {
    const { send, counters } = boot(3);
    send({ type: 'DISK_READ', ino: B, offset: 0, length: B_SIZE });
    send({ type: 'DISK_READ', ino: B, offset: 0, length: B_SIZE });
    expect(counters.get('cacheHits')).toBe(3);
    expect(counters.get('cacheMisses')).toBe(3);
  });

  it('zero-byte reads touch no block', () => {
    const { send, counters } = boot(2);
    send({ type: 'DISK_READ', ino: EMPTY, offset: 0, length: 10 });
    send({ type: 'DISK_READ', ino: B, offset: 9000, length: 10 });
    send({ type: 'DISK_READ', ino: B, offset: 0, length: 0 });
    expect(counters.get('cacheHits') + counters.get('cacheMisses') + counters.get('diskBlocksRead')).toBe(0);
    expect(counters.get('diskReads')).toBe(3);
  });

  it('a slice handed out stays intact after its block is evicted', () => {
    const { send, image } = boot(2);
    const first = send({ type: 'DISK_READ', ino: A, offset: 0, length: 10 }).value.data[0] as Uint8Array;
    const copy = first.slice();
    send({ type: 'DISK_READ', ino: B, offset: 0, length: B_SIZE }); // evicts /a's block
    expect(first).toEqual(copy);
    expect(first).toEqual(imageBytes(image, 2, 0, 10));
  });

  it('init refuses a cache of less than one block', () => {
    expect(() => boot(0)).toThrow(RangeError);
    expect(() => boot(1.5)).toThrow(RangeError);
  });
});

describe('disk: unknown message types', () => {
  it('get an ENOSYS reply and count enosys', () => {
    const { send, counters } = boot();
    const r = send({ type: 'DISK_FORMAT', ino: A });
    expect(r).toMatchObject({ ok: false, errno: 'ENOSYS' });
    expect(counters.get('enosys')).toBe(1);
    expect(counters.get('messagesHandled')).toBe(1);
  });

  it('names inherited from Object are not handlers', () => {
    const { send, counters } = boot();
    for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(send({ type })).toMatchObject({ ok: false, errno: 'ENOSYS' });
    }
    expect(counters.get('enosys')).toBe(4);
  });

  it('a known type after an unknown one still works', () => {
    const { send, counters } = boot();
    send({ type: 'NET_SEND' });
    expect(send({ type: 'DISK_LOOKUP', path: '/a' })).toEqual({ ok: true, value: { ino: A, size: 10 } });
    expect(counters.get('enosys')).toBe(1);
  });
});
