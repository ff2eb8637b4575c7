/** Pure statistics over samples (tinybench style: no clock, no I/O). */

/** A sample's middle and range: median, min and max. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A sample described as hyperfine does: mean ± standard deviation, median, min…max, and its size. */
export interface Stats extends Spread {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  stdev: number;
  n: number;
}

/** The Stats of a sample: its mean, sample standard deviation, median, min, max and size (mean and median NaN when empty). */
export function stats(xs: readonly number[]): Stats {
  const n = xs.length;
  const mean = n ? xs.reduce((a, b) => a + b, 0) / n : NaN;
  const stdev = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { ...spread(xs), mean, stdev, n };
}

export function spread(xs: readonly number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Round to `digits` significant decimals, for reports. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const p = 10 ** Math.max(0, digits - Math.ceil(Math.log10(Math.abs(x))));
  return Math.round(x * p) / p;
}
