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

  /** Record one latency in microseconds (host-measured). */
  record(us: number): void {
    this.h.recordValue(Math.max(1, Math.round(us)));
  }

  summary(): LatencySummary {
    const h = this.h;
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      count: h.totalCount,
      p50: h.getValueAtPercentile(50),
      p90: h.getValueAtPercentile(90),
      p99: h.getValueAtPercentile(99),
      p999: h.getValueAtPercentile(99.9),
      max: h.maxValue,
      mean: round(h.totalCount ? h.mean : 0),
    };
  }
}
