/** The package's own files are found from its root, the same from the sources and from the build. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DIST_URL, PACKAGE, PACKAGE_ROOT, packageDir } from '../src/paths.js';
import { WORKLOAD_DIR } from '../src/workload/load.js';
import { PROFILE_DIR } from '../src/costmodel/profile.js';
import { LABS_DIR } from '../src/labs/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('paths', () => {
  it("the package root is the folder of microlith's package.json, and its name and version are that file's", () => {
    expect(join(PACKAGE_ROOT, '/')).toBe(join(ROOT, '/'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
    expect(PACKAGE).toEqual({ name: pkg.name, version: pkg.version });
  });
  it('the shipped folders are at the root, each ending in a separator', () => {
    expect(WORKLOAD_DIR).toBe(packageDir('workloads'));
    expect(PROFILE_DIR).toBe(join(ROOT, 'profiles', '/'));
    expect(LABS_DIR).toBe(join(ROOT, 'labs', '/'));
    for (const dir of [WORKLOAD_DIR, PROFILE_DIR, LABS_DIR]) expect(existsSync(dir), dir).toBe(true);
    expect(fileURLToPath(DIST_URL)).toBe(join(ROOT, 'dist', '/'));
  });
});
