/**
 * Human-readable summaries of a run report and a comparison. Every figure says
 * what it is: host-measured (this machine's clock) or counted (deterministic
 * events), with its unit.
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import type { Comparison } from '../compare.js';
import type { RunReport } from '../run.js';
import type { IpcBenchResult } from '../microkernel/bench-ipc.js';

const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const dec = (x: number, d = 2) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d }) : 'n/a');
const mb = (bytes: number) => `${dec(bytes / 1e6, 1)} MB`;

function table(head: string[]): Table.Table {
  return new Table({ head: head.map((h) => pc.bold(h)), style: { head: [], border: [], compact: true } });
}

export function labelOf(r: Pick<RunReport, 'mode' | 'transport' | 'signal'>): string {
  if (!r.transport) return r.mode;
  return `${r.mode}:${r.transport}${r.signal && r.signal !== 'message' ? `:${r.signal}` : ''}`;
}

function arrivalText(r: RunReport): string {
  const a = r.workload.arrival;
  const load =
    a.kind === 'open'
      ? `open loop at ${int(a.ratePerSec)} requests/s, at most ${int(a.maxInFlight)} in flight`
      : `${r.workload.clients} closed-loop clients${a.thinkTimeMs ? `, ${dec(a.thinkTimeMs)} ms think time` : ''}`;
  return r.workload.durationMs ? `${load}, for ${int(r.workload.durationMs)} ms` : load;
}

export function formatRun(r: RunReport): string {
  const w = r.workload;
  const o = r.outcomes;
  const lines = [
    pc.bold(`microlith run: ${w.name} under ${labelOf(r)}`) + ` (seed ${w.seed}, ${int(w.requests)} requests, ${arrivalText(r)})`,
    `outcomes: ${int(o.ok)} ok, ${int(o.fail)} fail, ${int(o.info)} info (unknown)` +
      (o.pending ? `, ${int(o.pending)} pending` : '') +
      (o.notIssued ? `, ${int(o.notIssued)} not sent` : ''),
  ];
  const t = table(['figure', 'value', 'kind']);
  const host = pc.cyan('host-measured');
  const counted = pc.green('counted');
  const lat = r.latencyUs;
  t.push(
    ['throughput', `${int(r.throughput.requestsPerSec)} requests/s`, host],
    ['payload throughput', `${mb(r.throughput.payloadBytesPerSec)}/s`, host],
    [
      r.workload.arrival.kind === 'open' ? 'latency p50 / p99 (from scheduled arrival to reply)' : 'latency p50 / p99 (round trip, client to reply)',
      lat ? `${int(lat.p50)} / ${int(lat.p99)} µs` : 'lost with its domain',
      host,
    ],
    ['wall time', `${dec(r.elapsedMs, 0)} ms`, host],
    ['requests per CPU-second (all threads)', int(r.throughput.requestsPerCpuSec), host],
    ['busy fraction per domain', r.domains.map((d) => `${d.name} ${dec(d.utilisation * 100, 0)}%`).join(', '), host],
    ['busy µs per request, per domain', r.domains.map((d) => `${d.name} ${dec(d.busyUsPerRequest ?? NaN, 1)}`).join(', '), host],
    ['bytes copied per request', int(r.perRequest.bytesCopied), counted],
    ['IPC messages per request', dec(r.perRequest.ipcMessages), counted],
    ['domain crossings per request', dec(r.perRequest.crossings), counted],
    ['direct (in-kernel) calls per request', dec(r.perRequest.directCalls), counted],
    ['payload bytes per request', int(r.perRequest.payloadBytes), counted],
    ['frames sent / bytes checksummed', `${int(r.counters.framesSent)} / ${mb(r.counters.bytesChecksummed)}`, counted],
    ['buffer cache hits / misses', `${int(r.counters.cacheHits)} / ${int(r.counters.cacheMisses)}`, counted],
  );
  if (r.counters.diskWrites > 0) {
    t.push(['disk writes / bytes written (write-through)', `${int(r.counters.diskWrites)} / ${mb(r.counters.diskBytesWritten)}`, counted]);
  }
  const d = r.durability;
  if (d) {
    const verdict = d.lost ? pc.red(`${int(d.lost)} LOST`) : '0 lost';
    t.push([
      'acknowledged writes: verified on the image / lost',
      `${int(d.verified)} of ${int(d.ackedWrites)} verified, ${int(d.superseded)} overwritten later, ${verdict} (${int(d.bytesChecked)} bytes compared)`,
      pc.green('checked'),
    ]);
  }
  lines.push(t.toString());
  lines.push(`digest of all responses: ${r.digest}`);
  lines.push(pc.dim('modelled figures: none yet (no hardware cost profile is applied)'));
  if (r.status !== 'ok') lines.push(pc.red(`FAILED: ${r.problems.join('; ')}`));
  return lines.join('\n');
}

export function formatComparison(c: Comparison): string {
  const w = c.workload;
  const lines = [
    pc.bold(`microlith compare: ${w.name}`) +
      ` (seed ${w.seed}, ${int(w.requests)} requests, ${w.clients} clients, ${c.rounds} interleaved rounds, baseline ${c.baseline})`,
  ];
  const t = table([
    'label',
    'requests/s\nhost, median',
    'min–max',
    `ratio to ${c.baseline}\nhost, paired median`,
    'ratio\nmin–max',
    'p50 / p99 µs\nhost, round trip',
    'bytes copied\nper request',
    'IPC messages\nper request',
  ]);
  for (const r of c.results) {
    const last = r.reports[r.reports.length - 1];
    t.push([
      r.label,
      int(r.requestsPerSec.median),
      `${int(r.requestsPerSec.min)}–${int(r.requestsPerSec.max)}`,
      `${dec(r.ratio.median, 3)}×`,
      `${dec(r.ratio.min, 3)}–${dec(r.ratio.max, 3)}`,
      r.latencyUs ? `${int(r.latencyUs.p50)} / ${int(r.latencyUs.p99)}` : 'n/a',
      int(last.perRequest.bytesCopied),
      dec(last.perRequest.ipcMessages),
    ]);
  }
  lines.push(t.toString());
  lines.push(pc.dim('copies and messages are counted (the same every round); throughput and latency are host-measured.'));
  lines.push(
    c.digestsEqual
      ? `same answers: every run's response digest is ${c.results[0].reports[0].digest}`
      : pc.red('DIFFERENT ANSWERS: the response digests differ between runs'),
  );
  const failed = c.results.flatMap((r) => r.reports.filter((x) => x.status !== 'ok').map((x) => `${r.label}: ${x.problems.join('; ')}`));
  if (failed.length) lines.push(pc.red(`FAILED runs: ${failed.join(' | ')}`));
  return lines.join('\n');
}

export function formatIpcBench(results: IpcBenchResult[]): string {
  const t = table([
    'transport:signal',
    'payload\nbytes',
    'round trip µs\nmedian (p99)',
    'pipelined µs\nper round trip',
    'one-way\nMB/s',
    'bytes copied\nper round trip',
  ]);
  for (const r of results) {
    t.push([
      `${r.transport}:${r.signal}`,
      int(r.sizeBytes),
      `${dec(r.roundTripUs.median)} (${dec(r.roundTripUs.p99)})`,
      dec(r.pipelinedRoundTripUs),
      dec(r.oneWayMBps, 1),
      int(r.bytesCopiedPerRoundTrip),
    ]);
  }
  return [
    t.toString(),
    pc.dim('all times host-measured; round trip = request and reply with the payload both ways, one call at a time;'),
    pc.dim('pipelined = wall time / calls with many in flight; one-way = payload bytes to a sink per second; copies counted.'),
  ].join('\n');
}
