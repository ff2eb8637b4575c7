/**
 * The package as others get it: the licence it names is there, `import` and
 * `require` both load the library (Node 20.19+), and calibrate writes its
 * measurements where the user is, never into the installed package.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { loadProfile } from '../src/costmodel/profile.js';
import { ROOT } from './support/cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string; files: string[] };

describe('licence', () => {
  it('package.json names MIT and the LICENSE file says MIT and ships', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
    expect(pkg.files).toContain('LICENSE');
  });
});

describe('loading the library', () => {
  const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });

  it("require('microlith') loads it", () => {
    const r = node(['--no-warnings', '-e', "const m = require('microlith'); console.log(typeof m.run, typeof m.compare, typeof m.ConfigError)"]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function function function');
  });

  it("import('microlith') loads it", () => {
    const r = node(['--input-type=module', '-e', "const m = await import('microlith'); console.log(typeof m.run, typeof m.compare)"]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function function');
  });
});

describe('calibrate writes where the user is', () => {
  it('by default ./microlith-host.json, which --profile then reads; the shipped host profile is untouched', async () => {
    const shipped = readFileSync(join(ROOT, 'profiles/host.json'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'microlith-calibrate-'));
    const before = process.cwd();
    let stderr = '';
    const io = { out: () => {}, err: (t: string) => void (stderr += t) };
    try {
      process.chdir(dir);
      expect(await main(['calibrate', '--effort', '0.02', '--quiet'], io), stderr).toBe(0);
      expect(existsSync(join(dir, 'microlith-host.json'))).toBe(true);
      expect(loadProfile(join(dir, 'microlith-host.json')).name).toBe('host');
      expect(stderr).toMatch(/wrote microlith-host\.json: price runs with it by --profile microlith-host\.json/);
      expect(await main(['run', '-n', '20', '--profile', 'microlith-host.json', '--quiet'], io), stderr).toBe(0);
    } finally {
      process.chdir(before);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(readFileSync(join(ROOT, 'profiles/host.json'), 'utf8')).toBe(shipped);
  });
});
