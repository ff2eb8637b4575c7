/**
 * Latency recording with an HDR histogram (microseconds, 3 significant digits).
 */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export class LatencyRecorder {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });

  private sum = 0;
  private max = 0;

  /** Record one latency in microseconds (host-measured). */
  record(us: number): void {
    const v = Math.max(1, Math.round(us));
    this.h.recordValue(v);
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  summary(): LatencySummary {
    const h = this.h;
    const n = h.totalCount;
    // a percentile is its bucket's top end: never report one above the exact max
    const at = (p: number) => Math.min(h.getValueAtPercentile(p), this.max);
    return {
      count: n,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: this.max,
      mean: n ? Math.round((this.sum / n) * 10) / 10 : 0,
    };
  }
}
