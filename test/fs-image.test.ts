import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { fillSeeded, fillSeededInJs, ImageCache, mkfs, mount, BLOCK_SIZE, type AleaState } from '../src/servers/fs.js';
import { ALEA_WASM } from '../src/servers/alea-wasm.js';

/** What a file's bytes are by definition: seedrandom's alea, an int32 per 4 bytes (little-endian), then one per byte. */
function reference(length: number, seed: string): Uint8Array {
  const rng = seedrandom.alea(seed);
  const out = new Uint8Array(length);
  const dv = new DataView(out.buffer);
  const words = length >>> 2;
  for (let i = 0; i < words; i++) dv.setInt32(i * 4, rng.int32(), true);
  for (let i = words * 4; i < length; i++) out[i] = rng.int32() & 0xff;
  return out;
}

describe('fillSeeded', () => {
  it('gives exactly the bytes of seedrandom alea, for every length and alignment', () => {
    for (const seed of ['42:/file_set/dir00000/class0_0', 'x', '']) {
      for (let length = 0; length <= 41; length++) {
        for (let offset = 0; offset < 4; offset++) {
          const backing = new Uint8Array(length + offset + 3).fill(0xa5);
          const view = backing.subarray(offset, offset + length);
          fillSeeded(view, seed);
          expect(view, `length ${length}, offset ${offset}, seed '${seed}'`).toEqual(reference(length, seed));
          // nothing outside the view is touched
          expect(backing.subarray(0, offset).every((b) => b === 0xa5)).toBe(true);
          expect(backing.subarray(offset + length).every((b) => b === 0xa5)).toBe(true);
        }
      }
    }
  });

  it('a megabyte, in shared memory as mkfs fills it, equals the reference', () => {
    const n = (1 << 20) + 3;
    const bytes = new Uint8Array(new SharedArrayBuffer(n + BLOCK_SIZE), BLOCK_SIZE, n);
    fillSeeded(bytes, '7:/big');
    expect(Buffer.from(bytes).equals(Buffer.from(reference(n, '7:/big')))).toBe(true);
  });

  it('past the WebAssembly module\'s 1 MiB of words at a time: several of them, then the trailing bytes, equal the reference', () => {
    const n = 2 * (1 << 20) + 4 * 1000 + 3;
    const bytes = new Uint8Array(n + 1).subarray(1);
    fillSeeded(bytes, '1996:/file_set/dir00001/class3_4');
    expect(Buffer.from(bytes).equals(Buffer.from(reference(n, '1996:/file_set/dir00001/class3_4')))).toBe(true);
  });

  it('the JavaScript fallback gives the same bytes as the module', () => {
    const n = 70_001;
    const viaModule = new Uint8Array(n);
    fillSeeded(viaModule, 'fallback');
    const inJs = new Uint8Array(n);
    fillSeededInJs(inJs, seedrandom.alea('fallback', { state: true }).state() as AleaState);
    expect(Buffer.from(inJs).equals(Buffer.from(viaModule))).toBe(true);
  });

  it('the embedded module is src/servers/alea.wat compiled (npm run wasm remakes it)', async () => {
    const { aleaWasmBase64 } = await import('../scripts/gen-alea-wasm.mjs');
    expect(ALEA_WASM).toBe(await aleaWasmBase64());
  });

  it("mkfs lays each file's seeded bytes at its inode's extent", () => {
    const files = [{ path: '/a', size: 10 }, { path: '/b', size: 5000 }, { path: '/c', size: 0 }];
    const image = mkfs(files, 9);
    const { inodes } = mount(image);
    for (const ino of inodes) {
      const at = ino.startBlock * BLOCK_SIZE;
      expect(new Uint8Array(image, at, ino.size)).toEqual(reference(ino.size, `9:${ino.path}`));
    }
  });
});

describe('ImageCache', () => {
  const image = (kib: number) => new SharedArrayBuffer(kib * 1024);

  it('makes an image once per key, however the keys alternate', () => {
    const cache = new ImageCache(1024 * 1024);
    let made = 0;
    const make = () => (made++, image(4));
    const a = cache.get('a', make);
    const b = cache.get('b', make);
    for (let i = 0; i < 3; i++) {
      expect(cache.get('a', make)).toBe(a);
      expect(cache.get('b', make)).toBe(b);
    }
    expect(made).toBe(2);
  });

  it('drops the least recently used images past its budget, and always keeps the newest', () => {
    const cache = new ImageCache(10 * 1024);
    cache.get('a', () => image(4));
    cache.get('b', () => image(4));
    cache.get('a', () => image(4)); // a is now the most recently used
    cache.get('c', () => image(4)); // 12 KiB: b goes
    expect(cache.keys()).toEqual(['a', 'c']);
    cache.get('big', () => image(64)); // over the budget on its own: kept, alone
    expect(cache.keys()).toEqual(['big']);
    let made = 0;
    cache.get('a', () => (made++, image(4)));
    expect(made).toBe(1);
  });
});
