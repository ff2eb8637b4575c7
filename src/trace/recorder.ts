/**
 * A domain's trace recorder: the records of the sampled requests, kept in
 * memory (at most `RECORDS_PER_REQUEST` per sampled request) and handed over
 * at the end of the run. A domain that does not trace has none, and its
 * kernel's only cost per message is the check for one.
 */
import type { TraceRecord, TraceSettings } from './types.js';

/** Records a domain keeps per sampled request, at most (a file request makes about 20 in its busiest domain). */
export const RECORDS_PER_REQUEST = 64;

/** Epoch µs, the same clock in every thread. */
export function traceNow(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

export class TraceRecorder {
  private readonly records: TraceRecord[] = [];
  private readonly limit: number;
  private seq = 0;
  /** Records not kept: past the limit. */
  dropped = 0;

  constructor(
    readonly settings: TraceSettings,
    /** 'wire', 'monolith', or 'server#gen'. */
    readonly domain: string,
    /** Unique per domain of the run: flow ids are `domainNo * 1e6 + n`. */
    private readonly domainNo: number,
  ) {
    this.limit = settings.requests * RECORDS_PER_REQUEST;
  }

  /** Request `req` is in the sample. */
  sampled(req: unknown): req is number {
    return typeof req === 'number' && req >= 0 && req < this.settings.requests;
  }

  /** A new flow id, unique over the run. */
  flow(): number {
    return this.domainNo * 1e6 + ++this.seq;
  }

  now(): number {
    return traceNow();
  }

  slice(req: number, name: string, cat: string, ts: number, end = traceNow()): void {
    this.add({ k: 'slice', d: this.domain, req, name, cat, ts, dur: Math.max(0, end - ts) });
  }

  span(req: number, name: string, cat: string, ts: number, end = traceNow()): void {
    this.add({ k: 'span', d: this.domain, req, name, cat, ts, dur: Math.max(0, end - ts) });
  }

  send(req: number, flow: number, from: string, to: string, type: string, kind: 'call' | 'reply', ts: number, line?: string): void {
    this.add(line === undefined ? { k: 'send', d: this.domain, req, flow, from, to, type, kind, ts } : { k: 'send', d: this.domain, req, flow, from, to, type, kind, ts, line });
  }

  recv(req: number, flow: number, ts: number): void {
    this.add({ k: 'recv', d: this.domain, req, flow, ts });
  }

  private add(r: TraceRecord): void {
    if (this.records.length < this.limit) this.records.push(r);
    else this.dropped++;
  }

  /** Everything recorded so far; the recorder starts empty again. */
  drain(): TraceRecord[] {
    return this.records.splice(0);
  }
}

/** A domain's number for flow ids: 1 the wire, 2 the monolith, 100 * (server index + 1) + incarnation in the microkernel. */
export function domainNo(serverIndex: number | null, gen = 1): number {
  return serverIndex === null ? 2 : 100 * (serverIndex + 1) + gen;
}
