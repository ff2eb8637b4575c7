/**
 * disk — the block device and file system server.
 *
 * The image (the media) belongs to the kernel and outlives this server; the
 * buffer cache is this server's own memory, allocated through the kernel's
 * BlockAllocator (its heap, or the shared pool). Cached blocks are immutable: a
 * read hands out views of them (zero-copy in the monolithic kernel), and a block
 * is never overwritten while anyone else may hold a view of it.
 *
 * Calls: DISK_LOOKUP (path -> inode), DISK_STAT (inode -> size), DISK_READ.
 */
import type { Payload } from '../protocol.js';
import { BLOCK_SIZE, blocksFor, mount, type Inode } from './fs.js';
import { fail, ok, type CallTable, type ServerContext, type ServerModule } from './server.js';

export interface DiskBoot {
  image: SharedArrayBuffer;
  /** Buffer cache capacity in blocks. */
  cacheBlocks: number;
}

interface DiskState {
  image: SharedArrayBuffer; // the media; read-only to this server for now
  byPath: Map<string, Inode>; // the mounted inode table
  inodes: Inode[];
  cache: Map<number, Uint8Array>; // block number -> block bytes; Map order is LRU order
  cacheBlocks: number;
}

function init(boot: DiskBoot): DiskState {
  const { inodes } = mount(boot.image);
  if (!Number.isInteger(boot.cacheBlocks) || boot.cacheBlocks < 1) {
    throw new RangeError(`disk: cacheBlocks must be a positive integer, got ${boot.cacheBlocks}`);
  }
  return {
    image: boot.image,
    byPath: new Map(inodes.map((i) => [i.path, i])),
    inodes,
    cache: new Map(),
    cacheBlocks: boot.cacheBlocks,
  };
}

/** The cached copy of block `bno`, read from the image on a miss (LRU). */
function getBlock(st: DiskState, bno: number, ctx: ServerContext): Uint8Array {
  const hit = st.cache.get(bno);
  if (hit !== undefined) {
    ctx.counters.add('cacheHits');
    st.cache.delete(bno);
    st.cache.set(bno, hit);
    return hit;
  }
  ctx.counters.add('cacheMisses');
  ctx.counters.add('diskBlocksRead');
  if (st.cache.size >= st.cacheBlocks) {
    const [oldest, evicted] = st.cache.entries().next().value!;
    st.cache.delete(oldest);
    ctx.blocks.free(evicted);
  }
  // the device's DMA into a fresh cache buffer: a disk transfer, not a CPU copy
  const block = ctx.blocks.alloc(BLOCK_SIZE);
  block.set(new Uint8Array(st.image, bno * BLOCK_SIZE, BLOCK_SIZE));
  st.cache.set(bno, block);
  return block;
}

function inode(st: DiskState, ino: number): Inode | undefined {
  return Number.isInteger(ino) ? st.inodes[ino] : undefined;
}

function doLookup(st: DiskState, msg: { path: string }, ctx: ServerContext) {
  ctx.counters.add('diskLookups');
  const ip = typeof msg.path === 'string' ? st.byPath.get(msg.path) : undefined;
  return ip ? ok({ ino: ip.ino, size: ip.size }) : fail('ENOENT', msg.path);
}

function doStat(st: DiskState, msg: { ino: number }) {
  const ip = inode(st, msg.ino);
  return ip ? ok({ ino: ip.ino, size: ip.size, blocks: blocksFor(ip.size) }) : fail('ENOENT');
}

function doRead(st: DiskState, msg: { ino: number; offset: number; length: number }, ctx: ServerContext) {
  const ip = inode(st, msg.ino);
  if (!ip) return fail('ENOENT');
  const { offset, length } = msg;
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
    return fail('EINVAL', 'offset and length must be non-negative integers');
  }
  ctx.counters.add('diskReads');
  const end = Math.min(ip.size, offset + length);
  const data: Payload = [];
  for (let pos = offset; pos < end; ) {
    const inBlock = pos % BLOCK_SIZE;
    const n = Math.min(BLOCK_SIZE - inBlock, end - pos);
    const block = getBlock(st, ip.startBlock + Math.floor(pos / BLOCK_SIZE), ctx);
    data.push(block.subarray(inBlock, inBlock + n));
    pos += n;
  }
  return ok({ data, length: Math.max(0, end - offset) });
}

const calls = {
  DISK_LOOKUP: doLookup,
  DISK_STAT: doStat,
  DISK_READ: doRead,
} satisfies CallTable<'disk', DiskState>;

export const disk: ServerModule<'disk', DiskState, DiskBoot> = { name: 'disk', init, calls };
