/**
 * Human-readable summaries of a run report and a comparison. Every figure says
 * what it is: host-measured (this machine's clock) or counted (deterministic
 * events), with its unit.
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import type { Comparison } from '../compare.js';
import type { RunReport } from '../run.js';
import type { Modelled } from '../costmodel/price.js';
import { PARAM_NAMES, type Profile } from '../costmodel/profile.js';
import type { CheckRow } from '../costmodel/calibrate.js';
import { median } from '../metrics/stats.js';
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
  lines.push(formatModelled(r.modelled));
  if (r.status !== 'ok') lines.push(pc.red(`FAILED: ${r.problems.join('; ')}`));
  return lines.join('\n');
}

const PART_NAMES: Record<keyof Modelled['perRequestUs'], string> = {
  app: 'app work',
  copies: 'copies',
  checksums: 'checksums',
  ipc: 'IPC (message transfer)',
  contextSwitches: 'context switches',
  syscalls: 'system calls (kernel entries)',
  frames: 'frames (stack + driver)',
  wire: 'simulated clients',
  disk: 'disk (device time)',
};

/** The modelled figures of a run: the per-request breakdown and the modelled throughput. */
export function formatModelled(m: Modelled): string {
  const us = (x: number) => (x >= 100 ? int(x) : dec(x, x >= 1 ? 2 : 3));
  const label = pc.magenta(m.label);
  const t = table(['per request', 'µs', 'kind']);
  for (const [k, name] of Object.entries(PART_NAMES) as [keyof Modelled['perRequestUs'], string][]) {
    if (m.perRequestUs[k] > 0) t.push([name, us(m.perRequestUs[k]), label]);
  }
  t.push([pc.bold('processor time, all domains'), pc.bold(us(m.cpuUsPerRequest)), label]);
  const doms = Object.entries(m.domainsUsPerRequest);
  if (doms.length > 1) t.push(['processor time per domain', doms.map(([d, x]) => `${d} ${us(x)}`).join(', '), label]);
  t.push([pc.bold('throughput'), pc.bold(`${int(m.requestsPerSec)} requests/s`), `${label}, bound by ${m.bottleneck}`]);
  return t.toString();
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
    `processor µs/request\n${c.results[0].modelled.label}`,
    `requests/s\nmodelled (bound by)`,
    'ratio\nmodelled',
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
      dec(r.modelled.cpuUsPerRequest, 1),
      `${int(r.modelled.requestsPerSec)} (${r.modelled.bottleneck})`,
      `${dec(r.modelled.ratio, 3)}×`,
    ]);
  }
  lines.push(t.toString());
  lines.push(
    pc.dim(
      `copies and messages are counted (the same every round); throughput and latency are host-measured; the last three columns price the counted events with the ${c.results[0].modelled.profile} cost profile.`,
    ),
  );
  lines.push(
    c.digestsEqual
      ? `same answers: every run's response digest is ${c.results[0].reports[0].digest}`
      : pc.red('DIFFERENT ANSWERS: the response digests differ between runs'),
  );
  const failed = c.results.flatMap((r) => r.reports.filter((x) => x.status !== 'ok').map((x) => `${r.label}: ${x.problems.join('; ')}`));
  if (failed.length) lines.push(pc.red(`FAILED runs: ${failed.join(' | ')}`));
  return lines.join('\n');
}

export function formatIpcBench(results: Array<IpcBenchResult & { modelled?: { label: string; roundTripUs: number } }>): string {
  const modelled = results[0]?.modelled?.label;
  const t = table([
    'transport:signal',
    'payload\nbytes',
    'round trip µs\nmedian (p99)',
    'pipelined µs\nper round trip',
    'one-way\nMB/s',
    'bytes copied\nper round trip',
    ...(modelled ? [`round trip µs\n${modelled}`] : []),
  ]);
  for (const r of results) {
    t.push([
      `${r.transport}:${r.signal}`,
      int(r.sizeBytes),
      `${dec(r.roundTripUs.median)} (${dec(r.roundTripUs.p99)})`,
      dec(r.pipelinedRoundTripUs),
      dec(r.oneWayMBps, 1),
      int(r.bytesCopiedPerRoundTrip),
      ...(r.modelled ? [dec(r.modelled.roundTripUs, 3)] : []),
    ]);
  }
  return [
    t.toString(),
    pc.dim('times host-measured unless marked modelled; round trip = request and reply with the payload both ways, one call at a time;'),
    pc.dim('pipelined = wall time / calls with many in flight; one-way = payload bytes to a sink per second; copies counted;'),
    ...(modelled ? [pc.dim(`${modelled} = two messages and the counted copies, priced by the profile.`)] : []),
  ].join('\n');
}

/** A cost profile: each parameter, its value, and where it comes from. */
export function formatProfile(p: Profile): string {
  const t = new Table({
    head: ['parameter', 'value', 'source'].map((h) => pc.bold(h)),
    style: { head: [], border: [], compact: true },
    colWidths: [20, 14, 70],
    wordWrap: true,
  });
  for (const n of PARAM_NAMES) {
    const v = p.params[n];
    const from = p.from[n] === p.file ? '' : ` (from ${p.from[n]})`;
    t.push([n, `${dec(v.value, 4)} ${v.unit}`, `${v.source}${v.derivation ? `; derived: ${v.derivation}` : ''}${from}`]);
  }
  return [pc.bold(`cost profile ${p.name}`) + ` (${p.file})`, p.description, t.toString()].join('\n');
}

/** calibrate --check: modelled against host-measured throughput, per workload and label. */
export function formatCheck(profile: string, rows: CheckRow[]): string {
  const t = table([
    'workload',
    'label',
    'requests',
    'requests/s\nhost-measured',
    `requests/s\nmodelled (${profile})`,
    'error',
    'modelled\nbottleneck',
    'processor µs/request\nhost / modelled',
  ]);
  for (const r of rows) {
    const e = Number.isFinite(r.error) ? `${r.error >= 0 ? '+' : ''}${dec(r.error * 100, 1)}%` : 'n/a';
    t.push([
      r.workload,
      r.label,
      int(r.requests),
      int(r.hostRequestsPerSec),
      int(r.modelledRequestsPerSec),
      Math.abs(r.error) <= 0.25 ? e : pc.yellow(e),
      r.bottleneck,
      `${dec(r.hostCpuUsPerRequest, 1)} / ${dec(r.modelledCpuUsPerRequest, 1)}`,
    ]);
  }
  const errs = rows.map((r) => Math.abs(r.error)).filter(Number.isFinite);
  const within = errs.filter((x) => x <= 0.25).length;
  return [
    t.toString(),
    `${within} of ${rows.length} within ±25%; median |error| ${dec(median(errs) * 100, 1)}%, largest ${dec(Math.max(...errs) * 100, 1)}%.`,
    pc.dim('error = modelled / host-measured − 1 (positive: the model is too optimistic); host figures are single runs after a warm-up, on a shared machine.'),
  ].join('\n');
}
