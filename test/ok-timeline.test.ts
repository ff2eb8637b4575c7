/**
 * The second half of a run's time (src/metrics/timeline.ts): the requests that
 * ended ok from its middle on, per second of that half. On a clock the test
 * sets, so the figures are exact.
 */
import { describe, expect, it } from 'vitest';
import { OkTimeline } from '../src/metrics/timeline.js';

describe('the second half of a run', () => {
  it('counts only the requests that ended from the middle of the elapsed time on', () => {
    const t = new OkTimeline();
    // a cold start: 10 requests in the first 50 ms, then 90 in the next 50
    for (let i = 0; i < 10; i++) t.note(i * 5);
    for (let i = 0; i < 90; i++) t.note(50 + (i * 50) / 90);
    // the whole run: 100 in 100 ms, 1,000/s; its second half: 90 in 50 ms
    expect(t.secondHalfPerSec(100)).toBeCloseTo(1800, 6);
  });

  it('takes the half from the whole millisecond at or after the middle, and an odd elapsed time', () => {
    const t = new OkTimeline();
    t.note(49.9); // before the middle of 101 ms (51)
    t.note(50.6);
    t.note(51);
    t.note(100.9);
    // from 51 ms on: 2 requests in 50 ms
    expect(t.secondHalfPerSec(101)).toBeCloseTo(40, 6);
  });

  it('grows past its first few seconds, and a time before 0 counts in the first millisecond', () => {
    const t = new OkTimeline();
    t.note(-0.5);
    t.note(60_000.25);
    t.note(60_001);
    expect(t.secondHalfPerSec(60_002)).toBeCloseTo(2 / 30.001, 6);
  });

  it('is null for a run too short to halve, and 0 when nothing ended in the second half', () => {
    const t = new OkTimeline();
    t.note(0.5);
    expect(t.secondHalfPerSec(1.9)).toBeNull();
    expect(t.secondHalfPerSec(Number.NaN)).toBeNull();
    expect(t.secondHalfPerSec(10)).toBe(0);
  });
});
