/**
 * The examples run as a user runs them: `node --import tsx examples/...`,
 * importing the library by its package name (which resolves, through
 * package.json's `exports`, to the build in dist/).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'microlith-examples-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('examples/sweep-clients.ts', () => {
  it('sweeps clients over 8, 32 and 128 and writes a CSV: a header and 3 rows of numbers', () => {
    const out = join(tmp, 'clients.csv');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/sweep-clients.ts', out, '60'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/cell 3\/3 clients=128: ok\n/);
    const [header, ...rows] = readFileSync(out, 'utf8').trimEnd().split('\n');
    // every column names its unit and its kind, as the CLI's CSV does (_host: measured here, _counted: deterministic)
    expect(header).toBe('label,clients,requests_per_sec_host,p99_us_host,bytes_copied_per_request_counted');
    expect(rows).toHaveLength(3);
    const parsed = rows.map((row) => row.split(','));
    expect(parsed.map((c) => c[0])).toEqual(['clients=8', 'clients=32', 'clients=128']);
    for (const [i, [, clients, rps, p99, copied]] of parsed.entries()) {
      expect(Number(clients)).toBe([8, 32, 128][i]);
      for (const x of [rps, p99, copied]) expect(x).toMatch(/^\d+(\.\d+)?$/);
      expect(Number(rps)).toBeGreaterThan(0);
      expect(Number(p99)).toBeGreaterThan(0);
      // the copy transport copies every response across domains
      expect(Number(copied)).toBeGreaterThan(0);
    }
  });
});

describe('examples/private-dir-disk.ts', () => {
  it('placed for the disk, it runs in both kernels with the same answers, which differ from the shipped disk’s; its private files are not found', async () => {
    const { run } = await import('../src/index.js');
    const { server } = await import('../examples/private-dir-disk.js');
    const file = join(ROOT, 'examples/private-dir-disk.ts');
    const [mono, micro, shipped] = await Promise.all([
      run({ mode: 'monolithic', requests: 300, serverModules: { disk: file } }),
      run({ mode: 'microkernel', requests: 300, serverModules: { disk: file } }),
      run({ mode: 'monolithic', requests: 300 }),
    ]);
    expect(mono.status, mono.problems.join('; ')).toBe('ok');
    expect(micro.status, micro.problems.join('; ')).toBe('ok');
    expect(micro.digest).toBe(mono.digest);
    expect(mono.digest).not.toBe(shipped.digest);
    // a file the private directory holds is read by the shipped disk, not by this one
    expect(mono.counters.diskBlocksRead).toBeLessThan(shipped.counters.diskBlocksRead);
    const ctx = { counters: { add() {} } } as never;
    expect(server.calls.DISK_LOOKUP({} as never, { type: 'DISK_LOOKUP', path: '/dir009/class0_0' }, ctx)).toEqual({ ok: false, errno: 'ENOENT', detail: '/dir009/class0_0 is private' });
  });
});
