/**
 * `import(specifier)` for the modules that load one late, in whatever thread: a
 * user's module file, node:http for serving.
 *
 * Where a bundle runs from V8's code cache (a domain's thread, src/harness/domain.ts's
 * DOMAIN_LOADER, and the CLI, src/harness/code-cache.ts's runBundle), the import is
 * the loader's: on Node 20 a script started from that cache has lost its import
 * callback, so an `import()` of its own fails ("A dynamic import callback was not
 * specified"). Elsewhere, this module's own. A bare specifier (tsx) is resolved
 * from the importer's place: the CLI's is dist/cli.js, beside the package's own
 * node_modules; a domain's thread imports only file URLs and node: modules (one
 * that loads TypeScript starts through tsx instead).
 */
export function dynamicImport(specifier: string): Promise<unknown> {
  const loader = (globalThis as { __microlithImport?: (s: string) => Promise<unknown> }).__microlithImport;
  return loader ? loader(specifier) : import(specifier);
}
