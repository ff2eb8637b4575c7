/**
 * Part of `npm run build`, after tsc: the CLI, the library, and each domain's entry module, bundled.
 *
 * Each domain's entry module and everything it
 * imports (our modules, comlink, seedrandom) bundled into one file,
 * dist/domains/NAME.cjs. A domain's thread then loads one module instead of some
 * thirty: resolving, reading and linking them was most of what a thread does before
 * it serves, paid again at every boot and every restart.
 *
 * The per-file modules stay in dist/ beside it, for the library and for CPU profiles
 * (MICROLITH_UNBUNDLED=1 starts the domains from them, so each function keeps its file).
 *
 * The CLI is bundled with all it imports (our modules, yargs, zod, the tables and the
 * histograms) but tsx, into dist/cli-main.cjs, which dist/cli.js starts (below):
 * loading the hundred-odd modules it is made of was about half of a short command's
 * time (`microlith validate` took about 0.7 s of CPU, 0.35 s bundled). Its modules find
 * the package's files from the package root (src/paths.ts), not from where each module
 * sits, so one file does as well as many. The per-file entry is kept as
 * dist/cli-unbundled.js, which `npm run bench -- --profile-cpu` runs, so that each
 * function in a profile keeps its file, and the bundle is made from it at every build.
 * A tsc that runs without this step writes the per-file dist/cli.js again, which works
 * as it is.
 *
 * The library's entry, dist/index.js (the package's "."), is bundled in place the same
 * way, its per-file entry kept as dist/index-unbundled.js.
 *
 * The benchmarks (bench/run.ts, bench/http.ts) are bundled into bench/build/, which
 * `npm run bench` and `npm run bench:http` run.
 */
import { build } from 'esbuild';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The domain modules (src/harness/domain.ts's DomainModule), by their bundle's name. */
const ENTRIES = {
  worker: 'dist/microkernel/worker.js',
  'echo-worker': 'dist/microkernel/echo-worker.js',
  'monolithic-host': 'dist/harness/monolithic-host.js',
};

/**
 * seedrandom requires node:crypto when it loads, only to seed itself from entropy when
 * given no seed (microlith always gives one). Node's crypto is some twenty modules,
 * about 10 ms of every domain's start here: inside the domains' bundles its require
 * gets an object that loads node:crypto the first time anything is read from it.
 */
const lazyCrypto = {
  name: 'lazy-crypto',
  setup(b) {
    b.onResolve({ filter: /^crypto$/ }, (a) => (a.importer.includes('seedrandom') ? { path: 'crypto', namespace: 'lazy-crypto' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-crypto' }, () => ({
      contents: "module.exports = { get randomBytes() { return require('node:crypto').randomBytes; } };",
      loader: 'js',
    }));
  },
};

/** What every bundle here is: one file for Node 20 with all it imports but tsx, an ES module (the domains' are CommonJS, below). */
const COMMON = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // tsx is loaded only for a module of the user's in TypeScript, from node_modules
  external: ['tsx', 'tsx/*'],
  // not keepNames: it wraps every named closure in a call that defines its `name`, once per
  // closure made, and a defineProperty on a fresh function cost 0.7-0.8 µs here, against 15 ns
  // for the closure: a reply's `answer`, made for every call a server receives, paid it on the
  // data path. Nothing here reads a function's name; a bundle renames only what two modules
  // both name, which a stack trace then shows with a digit after it
  keepNames: false,
  logLevel: 'warning',
};
// the CommonJS packages inside (seedrandom, yargs) may require Node's modules
const REQUIRE = "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);";

/**
 * The domains' bundles are CommonJS (dist/domains/NAME.cjs), which the thread compiles as
 * require would (src/harness/domain.ts's DOMAIN_LOADER): an import() there first starts
 * Node's ES module loader in the thread, about
 * 3 ms of CPU of every domain's start here (a microkernel run of 5 requests, three domain
 * threads, took 143 ms of CPU against 153, alternated eight times, each time less). The
 * sources are ES modules, strict and with import.meta.url (where the package's files are):
 * the bundle says "use strict" first, and its import.meta holds the bundle's own URL. (The
 * harness's import.meta.resolve, for starting a domain through tsx, is in no domain's path.)
 */
// the threads' code cache (src/harness/code-cache.ts) is of the bundles built before: a
// cache is named for its source and would never be used again, so it goes
rmSync(join(root, 'dist/domains/code-cache'), { recursive: true, force: true });
await build({
  ...COMMON,
  format: 'cjs',
  entryPoints: ENTRIES,
  plugins: [lazyCrypto],
  outdir: 'dist/domains',
  outExtension: { '.js': '.cjs' },
  define: { 'import.meta': '__bundleMeta' },
  banner: { js: `"use strict";\nconst __bundleMeta = { url: require('node:url').pathToFileURL(__filename).href };` },
});

// the benchmarks, each in one file (bench/build/, not in the package): tsx compiling them and
// their imports was 1.4 s of CPU at every start of `npm run bench`, the bundle starts in 0.3
await build({ ...COMMON, entryPoints: { run: 'bench/run.ts', http: 'bench/http.ts' }, outdir: 'bench/build', banner: { js: REQUIRE } });

/**
 * Bundle dist/NAME.js in place, from tsc's per-file entry kept beside it as
 * dist/NAME-unbundled.js. When tsc wrote the per-file entry (a full build, or its source
 * changed), it has no mark and is copied aside first; it stays there, for CPU profiles
 * (each function keeps its file). The bundle is made from it at every build: the build's
 * tsc is incremental and writes only what changed, so dist/NAME.js may still be the last
 * build's bundle over modules that are new.
 */
async function bundleInPlace(name, what) {
  const { unbundled, mark } = keepUnbundled(name, what);
  await build({ ...COMMON, entryPoints: [unbundled], outfile: `dist/${name}.js`, allowOverwrite: true, banner: { js: `${mark}\n${REQUIRE}` } });
}

/** Copy tsc's per-file dist/NAME.js aside as dist/NAME-unbundled.js, unless dist/NAME.js is already this step's (it has the mark). */
function keepUnbundled(name, what) {
  const unbundled = `dist/${name}-unbundled.js`;
  const mark = `// microlith: ${what} in one file (scripts/bundle-domains.mjs)`;
  if (!readFileSync(join(root, `dist/${name}.js`), 'utf8').includes(mark)) copyFileSync(join(root, `dist/${name}.js`), join(root, unbundled));
  return { unbundled, mark };
}

/**
 * The CLI: its bundle is CommonJS, dist/cli-main.cjs, which dist/cli.js (the package's bin)
 * runs with src/harness/code-cache.ts's runBundle: from V8's code cache of it, kept in
 * dist/code-cache/ (emptied here), as the domains' threads run theirs. Compiling the bundle
 * was about 40 ms of CPU of every command's start here (`microlith validate FILE`, 0.15 s
 * of CPU from the ES module bundle, 0.11 s from the cache, three alternated pairs).
 */
const cli = keepUnbundled('cli', 'the CLI');
rmSync(join(root, 'dist/code-cache'), { recursive: true, force: true });
await build({
  ...COMMON,
  format: 'cjs',
  entryPoints: [cli.unbundled],
  outfile: 'dist/cli-main.cjs',
  define: { 'import.meta': '__bundleMeta' },
  // import.meta.resolve (the harness finds tsx with it, to start a domain that loads TypeScript) is
  // the launcher's own, an ES module's: it resolves as import() does, not as require
  banner: { js: `"use strict";\nconst __bundleMeta = { url: require('node:url').pathToFileURL(__filename).href, resolve: (s) => globalThis.__microlithResolve(s) };` },
});
// the entry's hashbang, which esbuild keeps, is no JavaScript inside the function a CommonJS module is wrapped in
const main = join(root, 'dist/cli-main.cjs');
writeFileSync(main, readFileSync(main, 'utf8').replace(/^#!.*\n/, ''));
writeFileSync(
  join(root, 'dist/cli.js'),
  [
    '#!/usr/bin/env node',
    cli.mark,
    "import { createRequire } from 'node:module';",
    "import { fileURLToPath } from 'node:url';",
    "import { runBundle } from './harness/code-cache.js';",
    'globalThis.__microlithResolve = (specifier) => import.meta.resolve(specifier);',
    "runBundle(fileURLToPath(new URL('./cli-main.cjs', import.meta.url)), 'cli', createRequire(import.meta.url), (specifier) => import(specifier));",
    '',
  ].join('\n'),
);
chmodSync(join(root, 'dist/cli.js'), 0o755);

// the library's entry (the package's "."): importing it module by module was about 240 ms of
// CPU here, bundled about 90, for every script that imports microlith and every cell of the
// bench's scaling table; dist/index.d.ts describes both
await bundleInPlace('index', 'the library');
