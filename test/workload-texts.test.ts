/**
 * What a shipped workload says of itself (its description and sources, which
 * `microlith workloads --long` prints) speaks of the workload and where its
 * numbers come from, not of the project's bookkeeping: no issue tracker.
 */
import { describe, expect, it } from 'vitest';
import { loadWorkload, shippedWorkloads } from '../src/workload/load.js';

describe.each(shippedWorkloads())('workload %s', (name) => {
  const w = loadWorkload(name);

  it('has a description, and neither it nor a source mentions an issue', () => {
    expect(w.description.trim().length).toBeGreaterThan(0);
    for (const text of [w.description, ...w.sources]) expect(text).not.toMatch(/issue/i);
  });
});
