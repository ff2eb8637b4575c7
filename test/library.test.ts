/**
 * The package as a library: `import { run, compare } from 'microlith'` resolves
 * through package.json's exports to the built dist/ (npm install builds it), and
 * works as the README shows.
 */
import { describe, expect, it } from 'vitest';

describe("import from 'microlith'", () => {
  it('exposes run and compare, and run works', async () => {
    const lib = await import('microlith');
    for (const name of ['run', 'compare', 'benchIpc', 'loadWorkload', 'parseLabel', 'WorkloadSchema']) {
      expect(lib, name).toHaveProperty(name);
    }
    const report = await lib.run({ mode: 'microkernel', transport: 'shared', workload: 'specweb96', requests: 200 });
    expect(report.status).toBe('ok');
    expect(report.outcomes.ok).toBe(200);
    expect(report.perRequest.bytesCopied).toBeLessThan(100); // only the HTTP header crosses by copy
  });
});
