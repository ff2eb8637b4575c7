/** Reading RunReports in the end-to-end tests. */
import { expect } from 'vitest';
import type { CounterName } from '../../src/metrics/counters.js';
import type { RunReport } from '../../src/run.js';

/** The named counters of a report. */
export function pick(r: RunReport, names: readonly CounterName[]): Partial<Record<CounterName, number>> {
  return Object.fromEntries(names.map((n) => [n, r.counters[n]]));
}

/** The run ended ok, without a fault, and each of its `requests` requests ended ok. */
export function expectAllOk(r: RunReport, requests: number): void {
  expect(r.status, r.problems.join('; ')).toBe('ok');
  expect(r.faults).toEqual([]);
  expect(r.outcomes).toEqual({ ok: requests, fail: 0, info: 0, pending: 0, notIssued: 0 });
}
