/**
 * disk — the block device and file system server.
 *
 * The image (the media) belongs to the kernel and outlives this server; the
 * buffer cache is this server's own memory, allocated through the kernel's
 * BlockAllocator (its heap, or the shared pool). Cached blocks are immutable: a
 * read hands out views of them (zero-copy in the monolithic kernel), and a block
 * is never overwritten while anyone else may hold a view of it. A write makes a
 * new copy of each cached block it touches (copy-on-write) and writes through
 * to the image before it replies: an acknowledged write is on the media.
 *
 * Calls: DISK_LOOKUP (path -> inode), DISK_STAT (inode -> size), DISK_READ,
 * DISK_WRITE. Files keep the size mkfs gave them: a write past the end is EFBIG.
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
  image: SharedArrayBuffer; // the media, which outlives this server
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

/**
 * The cached copy of block `bno`, read from the image on a miss (LRU). `run`
 * tracks the operation's last missed block: a miss that does not follow it
 * needs the head positioned again (a seek).
 */
function getBlock(st: DiskState, bno: number, ctx: ServerContext, run: { lastMiss: number }): Uint8Array {
  const hit = st.cache.get(bno);
  if (hit !== undefined) {
    ctx.counters.add('cacheHits');
    st.cache.delete(bno);
    st.cache.set(bno, hit);
    return hit;
  }
  ctx.counters.add('cacheMisses');
  ctx.counters.add('diskBlocksRead');
  if (bno !== run.lastMiss + 1) ctx.counters.add('diskSeeks');
  run.lastMiss = bno;
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
  const run = { lastMiss: -2 };
  for (let pos = offset; pos < end; ) {
    const inBlock = pos % BLOCK_SIZE;
    const n = Math.min(BLOCK_SIZE - inBlock, end - pos);
    const block = getBlock(st, ip.startBlock + Math.floor(pos / BLOCK_SIZE), ctx, run);
    data.push(block.subarray(inBlock, inBlock + n));
    pos += n;
  }
  return ok({ data, length: Math.max(0, end - offset) });
}

/** Copy payload bytes [from, from + target.length) into `target`. */
function gather(data: Payload, from: number, target: Uint8Array): void {
  let skip = from;
  let at = 0;
  for (const s of data) {
    if (at >= target.length) return;
    if (skip >= s.length) {
      skip -= s.length;
      continue;
    }
    const n = Math.min(s.length - skip, target.length - at);
    target.set(s.subarray(skip, skip + n), at);
    at += n;
    skip = 0;
  }
}

function doWrite(st: DiskState, msg: { ino: number; offset: number; data: Payload }, ctx: ServerContext) {
  const ip = inode(st, msg.ino);
  if (!ip) return fail('ENOENT');
  const { offset, data } = msg;
  if (!Number.isInteger(offset) || offset < 0) return fail('EINVAL', 'offset must be a non-negative integer');
  if (!Array.isArray(data) || !data.every((s) => s instanceof Uint8Array)) return fail('EINVAL', 'data must be an array of Uint8Array');
  const length = data.reduce((n, s) => n + s.length, 0);
  if (offset + length > ip.size) return fail('EFBIG', `write of ${length} bytes at ${offset} passes the end of a ${ip.size}-byte file`);
  ctx.counters.add('diskWrites');
  ctx.counters.add('diskBytesWritten', length);
  if (length > 0) ctx.counters.add('diskSeeks'); // the extent is contiguous: one positioning, then the blocks
  // an injected fault: a disk whose volatile write cache acknowledges this write
  // and never puts it on the media (the cache still sees it)
  const lose = ctx.injected?.kind === 'lose-write';
  if (lose) ctx.injected.lost();
  const end = offset + length;
  for (let pos = offset; pos < end; ) {
    const bno = ip.startBlock + Math.floor(pos / BLOCK_SIZE);
    const inBlock = pos % BLOCK_SIZE;
    const n = Math.min(BLOCK_SIZE - inBlock, end - pos);
    if (!lose) gather(data, pos - offset, new Uint8Array(st.image, bno * BLOCK_SIZE + inBlock, n));
    ctx.counters.add('diskBlocksWritten');
    const old = st.cache.get(bno);
    if (old !== undefined) {
      // views of the old block may be in flight: the cache gets a new block
      const fresh = ctx.blocks.alloc(BLOCK_SIZE);
      fresh.set(old);
      gather(data, pos - offset, fresh.subarray(inBlock, inBlock + n));
      st.cache.delete(bno);
      st.cache.set(bno, fresh);
      ctx.blocks.free(old);
    }
    pos += n;
  }
  return ok({ length });
}

const calls = {
  DISK_LOOKUP: doLookup,
  DISK_STAT: doStat,
  DISK_READ: doRead,
  DISK_WRITE: doWrite,
} satisfies CallTable<'disk', DiskState>;

/** The disk server: block device and file system (DISK_LOOKUP, DISK_STAT, DISK_READ, DISK_WRITE). */
export const disk: ServerModule<'disk', DiskState, DiskBoot> = { name: 'disk', init, calls };
