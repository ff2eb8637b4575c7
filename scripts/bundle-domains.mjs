/**
 * Part of `npm run build`, after tsc: each domain's entry module and everything it
 * imports (our modules, comlink, seedrandom) bundled into one file,
 * dist/domains/NAME.js. A domain's thread then loads one module instead of some
 * thirty: resolving, reading and linking them was most of what a thread does before
 * it serves, paid again at every boot and every restart.
 *
 * The per-file modules stay in dist/ beside it, for the library and for CPU profiles
 * (MICROLITH_UNBUNDLED=1 starts the domains from them, so each function keeps its file).
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The domain modules (src/harness/domain.ts's DomainModule), by their bundle's name. */
const ENTRIES = {
  worker: 'dist/microkernel/worker.js',
  'echo-worker': 'dist/microkernel/echo-worker.js',
  'monolithic-host': 'dist/harness/monolithic-host.js',
};

await build({
  absWorkingDir: root,
  entryPoints: ENTRIES,
  outdir: 'dist/domains',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // tsx is loaded only for a module of the user's in TypeScript, from node_modules
  external: ['tsx', 'tsx/*'],
  keepNames: true,
  // the CommonJS packages inside (seedrandom) may require Node's modules
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  logLevel: 'warning',
});
