/**
 * Loading a user's module file (a server module, a transport, a restart
 * policy) by path, `.ts` or `.js`, in whatever thread needs it.
 */
import { pathToFileURL } from 'node:url';
import { dynamicImport } from './dynamic-import.js';

/** A module file of one's own that could not be loaded, or does not export what it must: the message names the file and what is wrong. */
export class ModuleError extends Error {
  override name = 'ModuleError';
}

/** A TypeScript module file (.ts, .mts, .cts): plain Node cannot load it, so a domain placed with one starts through tsx. */
export function isTypeScriptFile(path: string): boolean {
  return /\.[cm]?ts$/.test(path);
}

/**
 * Import the module at absolute `path` (with `query` appended to its URL, to
 * get a fresh instance). Plain Node does not load `.ts` files: when the
 * import fails for that reason (the CLI running from dist/), the module is
 * loaded through tsx's loader, if it is installed.
 */
export async function importModuleFile(path: string, query = ''): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href + query;
  try {
    return (await dynamicImport(url)) as Record<string, unknown>;
  } catch (e) {
    if (!isTypeScriptFile(path) || (e as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    let tsx: { tsImport(specifier: string, parent: string): Promise<unknown> };
    try {
      tsx = (await dynamicImport('tsx/esm/api')) as typeof tsx;
    } catch {
      throw new Error('a .ts module needs tsx to load (npm install tsx), or compile it to .js and give that file', { cause: e });
    }
    return (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
}
