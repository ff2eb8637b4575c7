/**
 * The domains start from the build's bundles (one file per domain module), never
 * from a stale one, and a run is the same run either way.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { isBuiltin } from 'node:module';
import { Worker } from 'node:worker_threads';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { codeCacheFile } from '../src/harness/code-cache.js';
import { domainEntry, type DomainModule } from '../src/harness/domain.js';
import { run } from '../src/run.js';
import { ROOT } from './support/cli.js';

const MODULES: DomainModule[] = ['microkernel/worker', 'microkernel/echo-worker', 'harness/monolithic-host'];

describe('domainEntry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'microlith-dist-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const dist = pathToFileURL(`${dir}/`);
  const file = join(dir, 'microkernel', 'worker.js');
  const bundle = join(dir, 'domains', 'worker.cjs');
  mkdirSync(join(dir, 'microkernel'));
  mkdirSync(join(dir, 'domains'));
  writeFileSync(file, '');
  const at = (path: string, s: number) => utimesSync(path, s, s);

  it('without a bundle: the per-file module', () => {
    expect(domainEntry('microkernel/worker', dist, {}).pathname).toBe(pathToFileURL(file).pathname);
  });
  it('with a bundle as new as the module: the bundle', () => {
    writeFileSync(bundle, '');
    at(file, 1_000_000);
    at(bundle, 1_000_000);
    expect(domainEntry('microkernel/worker', dist, {}).pathname).toBe(pathToFileURL(bundle).pathname);
  });
  it('with a bundle older than the module (compiled again without bundling): the module, not the stale bundle', () => {
    at(bundle, 1_000_000);
    at(file, 1_000_100);
    expect(domainEntry('microkernel/worker', dist, {}).pathname).toBe(pathToFileURL(file).pathname);
  });
  it('MICROLITH_UNBUNDLED=1: the per-file module', () => {
    at(bundle, 1_000_200);
    expect(domainEntry('microkernel/worker', dist, { MICROLITH_UNBUNDLED: '1' }).pathname).toBe(pathToFileURL(file).pathname);
  });
});

describe("the build's bundles", () => {
  for (const module of MODULES) {
    it(`${module}: one self-contained CommonJS file, no older than the module`, () => {
      const name = module.slice(module.indexOf('/') + 1);
      const bundle = join(ROOT, 'dist', 'domains', `${name}.cjs`);
      expect(statSync(bundle).mtimeMs).toBeGreaterThanOrEqual(statSync(join(ROOT, 'dist', `${module}.js`)).mtimeMs);
      const text = readFileSync(bundle, 'utf8');
      // CommonJS, strict as the ES modules it is made of
      expect(text.startsWith('"use strict";\n')).toBe(true);
      expect(text).not.toMatch(/^\s*(import|export)\s/m);
      // nothing of ours or of a package is required or imported from outside it, except tsx (for a user's .ts module)
      const imported = [...text.matchAll(/\b(?:require|import)\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
      expect(imported.length).toBeGreaterThan(0);
      expect(imported.filter((s) => !s.startsWith('node:') && !s.startsWith('tsx'))).toEqual([]);
      expect(domainEntry(module, pathToFileURL(join(ROOT, 'dist') + '/'), {}).pathname).toBe(pathToFileURL(bundle).pathname);
    });
  }
});

describe("what a domain's thread loads", () => {
  it("the domain bundle loads neither Node's HTTP stack (only a socket device does) nor its crypto (seedrandom asks for it only to seed itself), nor the ES module loader", async () => {
    const entry = join(ROOT, 'dist', 'domains', 'worker.cjs');
    // the module runs without a kernel's workerData and stops at once: what it loaded by then is what every domain loads
    const code = `try { require(${JSON.stringify(entry)}); } catch {} require('node:worker_threads').parentPort.postMessage(process.moduleLoadList);`;
    const w = new Worker(code, { eval: true, workerData: null });
    const loaded = await new Promise<string[]>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    expect(loaded).toContain('NativeModule zlib'); // the NIC's CRC: it did load
    for (const m of ['NativeModule http', 'NativeModule net', 'NativeModule crypto']) expect(loaded).not.toContain(m);
    // required, the bundle does not start Node's ES module loader in the thread (an import() of it would)
    expect(loaded).not.toContain('NativeModule internal/modules/esm/loader');
  });
});

describe("the CLI's bundle", () => {
  const launcher = readFileSync(join(ROOT, 'dist', 'cli.js'), 'utf8');
  const bundle = join(ROOT, 'dist', 'cli-main.cjs');
  const text = readFileSync(bundle, 'utf8');
  it('dist/cli.js starts dist/cli-main.cjs, one self-contained strict CommonJS file; its per-file entry beside it as dist/cli-unbundled.js', () => {
    expect(launcher.startsWith('#!/usr/bin/env node\n')).toBe(true);
    const launched = [...launcher.matchAll(/\bfrom\s*["']([^"']+)["']/g)].map((m) => m[1]);
    expect(launched.filter((s) => !isBuiltin(s))).toEqual(['./harness/code-cache.js']);
    expect(launcher).toMatch(/runBundle\(.*'\.\/cli-main\.cjs'/);
    expect(text.startsWith('"use strict";\n')).toBe(true);
    expect(text).not.toMatch(/^\s*(import|export)\s/m);
    const required = [...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)|\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2]);
    // Node's own modules (yargs names them without node:) and tsx only
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((s) => !isBuiltin(s) && !s.startsWith('tsx'))).toEqual([]);
    expect(readFileSync(join(ROOT, 'dist', 'cli-unbundled.js'), 'utf8')).toMatch(/from ["']\.\/cli\/main\.js["']/);
  });
  it('a command leaves the code cache of the bundle it ran (named for its source) when it exits', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), '--version'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const named = basename(codeCacheFile(bundle, 'cli', text, 0)).replace(/-0\.v8$/, '-');
    expect(readdirSync(join(ROOT, 'dist', 'code-cache')).some((f) => f.startsWith(named) && f.endsWith('.v8'))).toBe(true);
  });
  it("finds the package's files from a folder of its own (workloads, profiles, labs, the domains), from another working directory", () => {
    const cwd = mkdtempSync(join(tmpdir(), 'microlith-cwd-'));
    try {
      const shipped = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'validate', 'specweb96'], { cwd, encoding: 'utf8' });
      expect(shipped.stdout + shipped.stderr).toMatch(/ok \(workload 'specweb96'/);
      const labs = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'lab', 'list'], { cwd, encoding: 'utf8' });
      expect(labs.stdout).toMatch(/^copies\s/m);
      const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'run', '--mode', 'microkernel', '-n', '20', '--profile', 'i486-50-l3', '--json'], { cwd, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as { outcomes: { ok: number }; tool: { version: string } };
      expect(report.outcomes.ok).toBe(20);
      expect(report.tool.version).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
      // a TypeScript server module: the bundle, run from its code cache, loads it through tsx (its late imports go through the launcher's)
      const placed = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'run', '--server-module', `disk=${join(ROOT, 'examples', 'private-dir-disk.ts')}`, '-n', '20', '--json'], { cwd, encoding: 'utf8' });
      expect(placed.status, placed.stderr).toBe(0);
      expect((JSON.parse(placed.stdout) as { outcomes: { ok: number } }).outcomes.ok).toBeGreaterThan(0);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('a run from the bundles is the run from the modules', () => {
  it('microkernel (shared, batch) and monolith: the same digest and counters', { timeout: 120_000 }, async () => {
    for (const opts of [{ mode: 'microkernel', transport: 'shared', signal: 'batch' }, { mode: 'monolithic' }] as const) {
      const bundled = await run({ ...opts, requests: 300 });
      process.env.MICROLITH_UNBUNDLED = '1';
      try {
        const unbundled = await run({ ...opts, requests: 300 });
        expect(bundled.status).toBe('ok');
        expect(bundled.digest).toBe(unbundled.digest);
        expect(bundled.counters).toEqual(unbundled.counters);
      } finally {
        delete process.env.MICROLITH_UNBUNDLED;
      }
    }
  });
});
