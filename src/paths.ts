/**
 * Where microlith's own files are: the package's root folder (package.json, and
 * the workloads, profiles and labs it ships) and its compiled build. Found by
 * walking up from this module to the package.json named microlith, so that the
 * answer is the same from the TypeScript sources, from the compiled per-file
 * modules, and from the one-file CLI that `npm run build` bundles (where every
 * module sits at the bundle's own place).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What this program reads of its package.json. */
export interface PackageInfo {
  name: string;
  version: string;
}

function findRoot(from: string): { root: string; pkg: PackageInfo } {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as Partial<PackageInfo>;
        if (pkg.name === 'microlith' && typeof pkg.version === 'string') return { root: dir, pkg: { name: pkg.name, version: pkg.version } };
      } catch {
        // not ours (or not JSON): keep looking above it
      }
    }
    if (dirname(dir) === dir) throw new Error(`microlith cannot find its package.json in any folder above ${from}`);
  }
}

const found = findRoot(dirname(fileURLToPath(import.meta.url)));

/** The package's root folder. */
export const PACKAGE_ROOT = found.root;
/** The package's name and version. */
export const PACKAGE: PackageInfo = found.pkg;
/** A folder the package ships, at its root (`workloads`, `profiles`, `labs`), with a trailing separator. */
export const packageDir = (name: string): string => join(PACKAGE_ROOT, name, '/');
/** The compiled build's folder, as a URL ending in a slash. */
export const DIST_URL: URL = pathToFileURL(join(PACKAGE_ROOT, 'dist', '/'));
