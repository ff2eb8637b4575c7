/**
 * The on-image format of the disk server's small file system, and `mkfs`, which
 * lays a workload's file set out on a fresh image (like xv6's mkfs).
 *
 * Layout, in BLOCK_SIZE blocks:
 *   block 0            superblock: magic, block size, inode count, where things are
 *   inode blocks       INODE_BYTES per file: start block, size, path
 *   data blocks        each file in one contiguous extent, block-aligned
 * File contents are seeded per path, so a file's bytes do not depend on where it
 * lies or on which other files exist (or given, as `serve` gives its index page).
 */
import seedrandom from 'seedrandom';
import { ALEA_WASM } from './alea-wasm.js';

export const BLOCK_SIZE = 4096;
export const INODE_BYTES = 128;
export const MAX_PATH_BYTES = INODE_BYTES - 10;
const MAGIC = 0x4d4c4653; // "MLFS"
const SUPER_WORDS = 7;

export interface FileSpec {
  path: string;
  size: number;
  /** The file's bytes (`size` of them); else seeded from the path. */
  data?: Uint8Array;
}

export interface Inode {
  ino: number;
  path: string;
  startBlock: number;
  size: number;
}

export interface Superblock {
  blockSize: number;
  inodeCount: number;
  inodeStart: number;
  inodeBlocks: number;
  dataStart: number;
  totalBlocks: number;
}

/** Blocks needed to hold `bytes`. */
export function blocksFor(bytes: number): number {
  return Math.ceil(bytes / BLOCK_SIZE);
}

/** A fresh image holding `files`, contents seeded by `seed`. */
export function mkfs(files: readonly FileSpec[], seed: string | number): SharedArrayBuffer {
  const enc = new TextEncoder();
  const paths = new Set<string>();
  for (const f of files) {
    if (paths.has(f.path)) throw new RangeError(`mkfs: duplicate path ${f.path}`);
    if (enc.encode(f.path).length > MAX_PATH_BYTES) throw new RangeError(`mkfs: path too long: ${f.path}`);
    if (!Number.isInteger(f.size) || f.size < 0 || f.size > 0xffffffff || (f.data !== undefined && f.data.length !== f.size)) {
      throw new RangeError(`mkfs: bad size ${f.size} for ${f.path}`);
    }
    paths.add(f.path);
  }
  const inodeBlocks = blocksFor(files.length * INODE_BYTES);
  const dataStart = 1 + inodeBlocks;
  const totalBlocks = dataStart + files.reduce((n, f) => n + blocksFor(f.size), 0);
  const image = new SharedArrayBuffer(totalBlocks * BLOCK_SIZE);
  const view = new DataView(image);
  const sb = [MAGIC, BLOCK_SIZE, files.length, 1, inodeBlocks, dataStart, totalBlocks];
  sb.forEach((w, i) => view.setUint32(i * 4, w));

  let next = dataStart;
  files.forEach((f, ino) => {
    const at = BLOCK_SIZE + ino * INODE_BYTES;
    const name = enc.encode(f.path);
    view.setUint32(at, next);
    view.setUint32(at + 4, f.size);
    view.setUint16(at + 8, name.length);
    new Uint8Array(image, at + 10, name.length).set(name);
    const bytes = new Uint8Array(image, next * BLOCK_SIZE, f.size);
    if (f.data) bytes.set(f.data);
    else fillSeeded(bytes, `${seed}:${f.path}`);
    next += blocksFor(f.size);
  });
  return image;
}

/**
 * Images by key, least recently used dropped first once they hold more than
 * `budgetBytes` together; the one just asked for is always kept, however big.
 */
export class ImageCache {
  readonly #images = new Map<string, SharedArrayBuffer>();

  constructor(readonly budgetBytes: number) {}

  /** The image kept under `key`, or the one `make` makes, kept from now on. */
  get(key: string, make: () => SharedArrayBuffer): SharedArrayBuffer {
    const kept = this.#images.get(key);
    this.#images.delete(key);
    const image = kept ?? make();
    this.#images.set(key, image);
    let held = 0;
    for (const i of this.#images.values()) held += i.byteLength;
    for (const [k, i] of this.#images) {
      if (held <= this.budgetBytes || k === key) break;
      this.#images.delete(k);
      held -= i.byteLength;
    }
    return image;
  }

  /** The keys kept, least recently used first. */
  keys(): string[] {
    return [...this.#images.keys()];
  }
}

/**
 * Fill `bytes` from a generator seeded by `seed`: seedrandom's alea, one int32 per
 * four bytes (little-endian), then one per trailing byte (its low 8 bits). The words
 * come from alea's step as integers, in a small WebAssembly module (src/servers/alea.wat
 * says how and why), from the state seedrandom seeds it with, so a workload's bytes are
 * exactly what `seedrandom.alea(seed).int32()` gives, in about a third of the time of
 * the same step in JavaScript (specweb96's 51 MB image, made at the start of every
 * process that runs it, in about 30 ms instead of 90).
 */
export function fillSeeded(bytes: Uint8Array, seed: string): void {
  const st = seedrandom.alea(seed, { state: true }).state() as AleaState;
  const words = bytes.length >>> 2;
  const a = alea();
  const x = [st.s0, st.s1, st.s2].map((s) => s * 0x100000000);
  if (!a || !x.every((v) => Number.isInteger(v) && v >= 0 && v < 0x100000000) || !Number.isInteger(st.c)) return fillSeededInJs(bytes, st);
  a.c.value = BigInt(st.c);
  [a.x0.value, a.x1.value, a.x2.value] = x.map(BigInt);
  const made = new Uint8Array(a.memory.buffer);
  const chunk = made.length >>> 2;
  for (let w = 0; w < words; w += chunk) {
    const n = Math.min(chunk, words - w);
    a.fill(n);
    bytes.set(made.subarray(0, n * 4), w * 4);
  }
  // the trailing bytes, one word each, from where the module left the stream
  const rest = { c: Number(a.c.value), s0: Number(a.x0.value) / 0x100000000, s1: Number(a.x1.value) / 0x100000000, s2: Number(a.x2.value) / 0x100000000 };
  fillSeededInJs(bytes.subarray(words * 4), rest, 0);
}

/** The module's exports (src/servers/alea.wat). */
interface AleaWasm {
  memory: { buffer: ArrayBuffer };
  c: { value: bigint };
  x0: { value: bigint };
  x1: { value: bigint };
  x2: { value: bigint };
  fill(words: number): void;
}

/** What this needs of WebAssembly (the project's types have no DOM library). */
const { WebAssembly: wasm } = globalThis as unknown as {
  WebAssembly?: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown } };
};

let aleaModule: AleaWasm | null | undefined;
/** The module, made at its first use in this thread, or null where WebAssembly is not to be had. */
function alea(): AleaWasm | null {
  if (aleaModule === undefined) {
    try {
      aleaModule = wasm ? (new wasm.Instance(new wasm.Module(Buffer.from(ALEA_WASM, 'base64'))).exports as AleaWasm) : null;
    } catch {
      aleaModule = null;
    }
  }
  return aleaModule;
}

/**
 * The same stream in JavaScript, from the state `st`: one int32 for each of the first
 * `words` four bytes (all of them by default), then one per byte. The definition the
 * module is tested against, and what fillSeeded falls back to without it.
 */
export function fillSeededInJs(bytes: Uint8Array, st: AleaState, words = bytes.length >>> 2): void {
  let { c, s0, s1, s2 } = st;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < words; i++) {
    const t = 2091639 * s0 + c * 2.3283064365386963e-10; // alea's step (2^-32)
    s0 = s1;
    s1 = s2;
    c = t | 0;
    s2 = t - c;
    dv.setInt32(i * 4, (s2 * 0x100000000) | 0, true);
  }
  for (let i = words * 4; i < bytes.length; i++) {
    const t = 2091639 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    c = t | 0;
    s2 = t - c;
    bytes[i] = ((s2 * 0x100000000) | 0) & 0xff;
  }
}

/** seedrandom's alea state: its carry and three seeds. */
export interface AleaState {
  c: number;
  s0: number;
  s1: number;
  s2: number;
}

/** Read the superblock and inode table back from an image (the disk server's mount). */
export function mount(image: SharedArrayBuffer): { sb: Superblock; inodes: Inode[] } {
  const view = new DataView(image);
  const w = Array.from({ length: SUPER_WORDS }, (_, i) => view.getUint32(i * 4));
  if (w[0] !== MAGIC) throw new Error('mount: not a microlith image (bad magic)');
  const sb: Superblock = {
    blockSize: w[1],
    inodeCount: w[2],
    inodeStart: w[3],
    inodeBlocks: w[4],
    dataStart: w[5],
    totalBlocks: w[6],
  };
  const dec = new TextDecoder();
  const inodes: Inode[] = [];
  for (let ino = 0; ino < sb.inodeCount; ino++) {
    const at = sb.inodeStart * sb.blockSize + ino * INODE_BYTES;
    const len = view.getUint16(at + 8);
    // decode from a private copy: TextDecoder refuses views of shared memory
    const path = dec.decode(new Uint8Array(image, at + 10, len).slice());
    inodes.push({ ino, path, startBlock: view.getUint32(at), size: view.getUint32(at + 4) });
  }
  return { sb, inodes };
}
