/**
 * Latency recording with an HDR histogram (microseconds, 3 significant digits).
 */
import * as hdr from 'hdr-histogram-js';

/** The percentiles of a latency CDF, from 0 (the minimum) to 100 (the maximum). */
export const CDF_PERCENTILES = [0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100] as const;

/** Host-measured latencies of a set of requests, in microseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /**
   * The latency distribution: [percentile, µs] at each of `CDF_PERCENTILES`,
   * from the HDR histogram (0 is the exact minimum, 100 the exact maximum; no
   * point lies above the maximum), non-decreasing. Empty without samples.
   */
  cdf: [percentile: number, us: number][];
}

export class LatencyRecorder {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });

  private sum = 0;
  private max = 0;
  private min = Infinity;

  /** Record one latency in microseconds (host-measured). */
  record(us: number): void {
    const v = Math.max(1, Math.round(us));
    this.h.recordValue(v);
    this.sum += v;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
  }

  summary(): LatencySummary {
    const h = this.h;
    const n = h.totalCount;
    // a percentile is its bucket's top end: never report one above the exact max
    const at = (p: number) => Math.min(h.getValueAtPercentile(p), this.max);
    const cdf = n
      ? CDF_PERCENTILES.map((p): [number, number] => [p, p === 0 ? this.min : p === 100 ? this.max : Math.max(this.min, at(p))])
      : [];
    return {
      count: n,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: this.max,
      mean: n ? Math.round((this.sum / n) * 10) / 10 : 0,
      cdf,
    };
  }
}
