/**
 * `import(specifier)` for the modules that load one late, in whatever thread: a
 * user's module file, node:http for serving.
 *
 * In a domain's thread started from its bundle, the import is the loader's
 * (src/harness/domain.ts's DOMAIN_LOADER defines it): the bundle's code is
 * compiled with V8's code cache, and on Node 20 a script started from that cache
 * has lost its import callback, so an `import()` of its own fails ("A dynamic
 * import callback was not specified"). Elsewhere, this module's own. The
 * specifier is absolute (a file URL, or a node: module), so it means the same
 * in either.
 */
export function dynamicImport(specifier: string): Promise<unknown> {
  const loader = (globalThis as { __domainImport?: (s: string) => Promise<unknown> }).__domainImport;
  return loader ? loader(specifier) : import(specifier);
}
