/**
 * The domains' code cache (src/harness/code-cache.ts): named for its source, role
 * and V8's version tag; taken from a thread that ran to the end; given to the
 * threads after it, which V8 then starts from; a refused or absent one costs a
 * cold compile, never a wrong answer; and runs are the same run with it and without.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleCode, codeCacheFile, keepCode } from '../src/harness/code-cache.js';
import { domainEntry, newChannel, startDomain } from '../src/harness/domain.js';
import type { EchoBoot } from '../src/microkernel/echo.js';
import { COUNTER_SLAB_BYTES } from '../src/metrics/counters.js';
import { DIST_URL } from '../src/paths.js';
import { run } from '../src/run.js';

describe('codeCacheFile', () => {
  const bundle = '/pkg/dist/domains/worker.cjs';
  it('sits in code-cache/ beside the bundle, named for the bundle, the role, the source and the tag', () => {
    const f = codeCacheFile(bundle, 'disk', 'let a = 1;', 0x1234abcd);
    expect(dirname(f)).toBe('/pkg/dist/domains/code-cache');
    expect(f).toMatch(/\/worker-disk-[0-9a-f]{16}-1234abcd\.v8$/);
    expect(codeCacheFile(bundle, 'disk', 'let a = 1;', 0x1234abcd)).toBe(f);
  });
  it('another source, role or V8 (version or flags) names another file', () => {
    const f = codeCacheFile(bundle, 'disk', 'let a = 1;', 1);
    expect(codeCacheFile(bundle, 'disk', 'let a = 2;', 1)).not.toBe(f);
    expect(codeCacheFile(bundle, 'net', 'let a = 1;', 1)).not.toBe(f);
    expect(codeCacheFile(bundle, 'disk', 'let a = 1;', 2)).not.toBe(f);
  });
});

describe('bundleCode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'microlith-code-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'thing.cjs');

  it('reads the bundle once, with no cache until one is kept; keeps it on disk for the same source only', () => {
    writeFileSync(bundle, 'module.exports = 1;');
    const first = bundleCode(bundle, 'r', {});
    expect(first).toMatchObject({ source: 'module.exports = 1;', cachedData: null, asked: false });
    expect(bundleCode(bundle, 'r', {})).toBe(first);
    keepCode(first, new Uint8Array([1, 2, 3]));
    expect(readFileSync(first.file!)).toEqual(Buffer.from([1, 2, 3]));
    // a rebuilt bundle is read again, and the old source's cache is not its
    writeFileSync(bundle, 'module.exports = 22;');
    utimesSync(bundle, 2_000_000, 2_000_000);
    const rebuilt = bundleCode(bundle, 'r', {});
    expect(rebuilt).toMatchObject({ source: 'module.exports = 22;', cachedData: null });
    expect(rebuilt.file).not.toBe(first.file);
    // the first source again (another process, say): its cache, from disk
    writeFileSync(bundle, 'module.exports = 1;');
    utimesSync(bundle, 3_000_000, 3_000_000);
    expect([...(bundleCode(bundle, 'r', {}).cachedData ?? [])]).toEqual([1, 2, 3]);
  });

  it('MICROLITH_CODE_CACHE=0: no cache, none read or asked for, none written', () => {
    writeFileSync(bundle, 'module.exports = 1;');
    const off = bundleCode(bundle, 'r', { MICROLITH_CODE_CACHE: '0' });
    expect(off).toMatchObject({ cachedData: null, file: null, asked: true });
  });
});

describe('a domain thread and the cache', () => {
  const bundle = fileURLToPath(domainEntry('microkernel/echo-worker', DIST_URL));
  const source = readFileSync(bundle, 'utf8');
  const roles: string[] = [];
  const role = (what: string) => {
    const r = `test${process.pid}${what}`;
    roles.push(r);
    return r;
  };
  afterAll(() => {
    for (const r of roles) rmSync(codeCacheFile(bundle, r, source), { force: true });
  });
  const echo = (r: string) => {
    const { port2 } = newChannel();
    const boot: EchoBoot = { port: port2, counters: new SharedArrayBuffer(COUNTER_SLAB_BYTES), transport: 'copy', signal: 'message', spinUs: 0, pool: null, rings: null };
    return startDomain<never, EchoBoot>({ module: 'microkernel/echo-worker', name: 'microlith-echo', role: r, boot, transfer: [port2] });
  };

  it('the first compiles cold and, stopped, leaves its code; the next starts from it', async () => {
    const r = role('cold');
    const first = echo(r);
    expect(await first.codeState).toBe('cold');
    await first.stop();
    const file = codeCacheFile(bundle, r, source);
    expect(statSync(file).size).toBeGreaterThan(1000);
    const next = echo(r);
    expect(await next.codeState).toBe('cached');
    await next.stop();
    expect(next.exitCode).not.toBeNull();
  });

  it('a cache V8 refuses (garbage under the right name) costs a cold compile, and is replaced by a good one', async () => {
    const r = role('bad');
    const file = codeCacheFile(bundle, r, source);
    writeFileSync(file, Buffer.alloc(4096, 0x5a));
    const first = echo(r);
    expect(await first.codeState).toBe('rejected');
    expect(first.alive).toBe(true);
    await first.stop();
    expect(readFileSync(file).equals(Buffer.alloc(4096, 0x5a))).toBe(false);
    const next = echo(r);
    expect(await next.codeState).toBe('cached');
    await next.stop();
  });

  it('a terminated domain (as a failed one is) gives nothing', async () => {
    const r = role('killed');
    const d = echo(r);
    expect(await d.codeState).toBe('cold');
    await d.terminate();
    expect(existsSync(codeCacheFile(bundle, r, source))).toBe(false);
  });

  it('a run is the same run with the cache and without: digest and every counter', async () => {
    const before = process.env.MICROLITH_CODE_CACHE;
    const one = () => run({ mode: 'microkernel', requests: 200, seed: 11 });
    try {
      process.env.MICROLITH_CODE_CACHE = '0';
      const cold = await one();
      delete process.env.MICROLITH_CODE_CACHE;
      await one(); // leaves a cache, if none was there
      const cached = await one();
      expect(cached.digest).toBe(cold.digest);
      expect(cached.counters).toEqual(cold.counters);
    } finally {
      if (before === undefined) delete process.env.MICROLITH_CODE_CACHE;
      else process.env.MICROLITH_CODE_CACHE = before;
    }
  });
});
