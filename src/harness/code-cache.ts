/**
 * The compiled code of a domain's bundle, kept between its threads.
 *
 * Every domain is a new thread with a new V8 isolate, which parses and compiles
 * its bundle's functions afresh as they are first called: the same work at every
 * boot and every restart (a tenth of the test suite's processor time, in a perf
 * profile of `npm test`). V8 can hand back what a script has compiled so far
 * (`vm.Script#createCachedData`, taken after the script has run, so the
 * functions the server called are in it) and take it again when the same
 * source is compiled (`cachedData`), checking that its own version and flags
 * match. So:
 *
 *   harness   reads the bundle once per process (`bundleCode`), with the cache
 *             made for this source, this Node and these V8 flags, if one is on
 *             disk, and passes both to each thread it starts
 *   thread    compiles the source with the cache (DOMAIN_LOADER), and says
 *             whether V8 took it
 *   harness   when a thread without a good cache ends its run in order
 *             (Domain.stop), asks it for what it compiled, keeps it for the
 *             process's next threads, and writes it beside the bundle
 *
 * The CLI does the same in its one thread (`runBundle`): dist/cli.js starts the
 * bundle dist/cli-main.cjs from its cache, and leaves one when the process exits
 * if it had none.
 *
 * It changes when code is compiled, never what it does: digests and counters are
 * the same with and without it (MICROLITH_CODE_CACHE=0 turns it off, for a
 * cold boot on purpose). The files live in a code-cache/ folder beside each
 * bundle, which `npm run build` empties; a package folder that cannot be written
 * keeps the cache in memory only.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { basename, dirname, join } from 'node:path';
import { cachedDataVersionTag } from 'node:v8';
import { constants as vmConstants, Script } from 'node:vm';

/** A bundle's source and the code cache its threads get. */
export interface BundleCode {
  /** The bundle's path: the script's name in stack traces and profiles. */
  readonly filename: string;
  readonly source: string;
  /** V8's cache for this source in this process (its version and flags), or null: none yet, or off. */
  cachedData: Uint8Array | null;
  /** Where the cache is kept between processes; null when that failed (a read-only package folder). */
  file: string | null;
  /** A thread has been asked for its compiled code, or none need be: ask no other. */
  asked: boolean;
}

/** What a domain's thread says about its code once it has compiled the bundle. */
export type CodeState = 'cached' | 'cold' | 'rejected';

/** Where a bundle's cache is kept: named for its source, its role (servers compile different functions) and V8's version tag. */
export function codeCacheFile(bundle: string, role: string, source: string | Uint8Array, tag: number = cachedDataVersionTag()): string {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const name = `${basename(bundle).replace(/\.[cm]?js$/, '')}-${role.replace(/[^a-z0-9]+/gi, '_')}-${hash}-${tag.toString(16)}.v8`;
  return join(dirname(bundle), 'code-cache', name);
}

const loaded = new Map<string, { mtimeMs: number; size: number; code: BundleCode }>();

/**
 * The bundle at `path` for a domain of `role`: read once per process (again if
 * the file changes), with its cache from disk unless `MICROLITH_CODE_CACHE=0`.
 */
export function bundleCode(path: string, role: string, env: NodeJS.ProcessEnv = process.env): BundleCode {
  const off = env.MICROLITH_CODE_CACHE === '0';
  const key = `${path}\0${role}\0${off}`;
  const st = statSync(path);
  const had = loaded.get(key);
  if (had && had.mtimeMs === st.mtimeMs && had.size === st.size) return had.code;
  // hashed as read (its UTF-8 bytes hash as the text does), not encoded again from the text
  const bytes = readFileSync(path);
  const source = bytes.toString('utf8');
  const file = off ? null : codeCacheFile(path, role, bytes);
  let cachedData: Uint8Array | null = null;
  if (file) {
    try {
      cachedData = readFileSync(file);
    } catch {
      // none yet: the first thread to end its run in order leaves one
    }
  }
  const code: BundleCode = { filename: path, source, cachedData, file, asked: off };
  loaded.set(key, { mtimeMs: st.mtimeMs, size: st.size, code });
  return code;
}

/** A thread said V8 refused the cache it was given: give no more threads that one, and take a new one. */
export function cacheRefused(code: BundleCode): void {
  code.cachedData = null;
  code.asked = false;
}

/** Keep `data`, what a thread compiled, for the process's next threads and on disk (written whole, then renamed into place). */
export function keepCode(code: BundleCode, data: Uint8Array): void {
  code.cachedData = data;
  if (!code.file) return;
  const tmp = `${code.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(dirname(code.file), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, code.file);
  } catch {
    code.file = null; // a folder we cannot write: this process keeps it in memory
  }
}

/**
 * Run the CommonJS bundle at `path` in this thread, as `require` would (`req` is its
 * require, `importer` the import() its code's late imports go through:
 * src/dynamic-import.ts), compiled from its code cache if there is a good one; if
 * there is none, V8's cache of what the process compiled is kept when it exits.
 */
export function runBundle(path: string, role: string, req: NodeJS.Require, importer: (specifier: string) => Promise<unknown>): void {
  const code = bundleCode(path, role);
  const script = new Script(Module.wrap(code.source), {
    filename: path,
    ...(code.cachedData ? { cachedData: code.cachedData } : {}),
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  (globalThis as { __microlithImport?: typeof importer }).__microlithImport = importer;
  if (!code.asked && (code.cachedData === null || script.cachedDataRejected === true)) {
    code.asked = true;
    process.once('exit', () => keepCode(code, script.createCachedData()));
  }
  const module = { exports: {} };
  (script.runInThisContext() as (...a: unknown[]) => void).call(module.exports, module.exports, req, module, path, dirname(path));
}
