/**
 * Human-readable summaries of a run, a comparison, the IPC benchmark, a model
 * check and a cost profile. Every figure says what it is, host-measured (this
 * machine's clock), counted (deterministic events) or modelled (PROFILE) (the
 * counted events priced), and carries its unit. By default each fits in 100
 * columns; `{ wide: true }` adds every detail the report has (the JSON has all
 * of it anyway). Numbers go through the helpers in `format.ts`, tables through
 * `grid` in `layout.ts`.
 */
import pc from 'picocolors';
import { runsText, type Comparison, type CompareResult, type CountedPerRequest } from '../compare.js';
import type { RunReport } from '../run.js';
import type { ServeReport } from '../serve.js';
import type { CpuPart, Modelled } from '../costmodel/price.js';
import { PARAM_NAMES, type Profile } from '../costmodel/profile.js';
import type { CheckRow } from '../costmodel/calibrate.js';
import { median } from '../metrics/stats.js';
import type { IpcBenchResult } from '../microkernel/bench-ipc.js';
import { bytes, bytesPerSec, count, exact, ms, pct, rate, ratio, sig3, signedPct, us } from './format.js';
import { grid, note, para, visibleWidth, WIDTH, wrap, type Column, type Group } from './layout.js';

export interface FormatOptions {
  /** Every detail, not only the first screen's; lines may then be wider than 100 columns. */
  wide?: boolean;
}

/** The kind labels are made per call: the CLI sets color after the modules load. */
const host = (): string => pc.cyan('host-measured');
const counted = (): string => pc.green('counted');
const modelledKind = (label: string) => pc.magenta(label);

/** The budget of a table: 100 columns, or none when wide. Prose is always wrapped to 100. */
const widthOf = (o: FormatOptions) => (o.wide ? Infinity : WIDTH);

export function labelOf(r: Pick<RunReport, 'mode' | 'transport' | 'signal'>): string {
  if (!r.transport) return r.mode;
  return `${r.mode}:${r.transport}${r.signal && r.signal !== 'message' ? `:${r.signal}` : ''}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

function arrivalText(r: RunReport): string {
  const a = r.workload.arrival;
  const load =
    a.kind === 'open'
      ? `open loop at ${rate(a.ratePerSec)} req/s, at most ${count(a.maxInFlight)} in flight`
      : `${plural(r.workload.clients, 'closed-loop client')}${a.thinkTimeMs ? `, ${ms(a.thinkTimeMs)} ms think time` : ''}`;
  return r.workload.durationMs ? `${load}, for ${count(r.workload.durationMs)} ms` : load;
}

/** "2,000 ok, 0 fail, 0 unknown", then pending and not sent when there are any. */
export function outcomesText(o: RunReport['outcomes']): string {
  return (
    `${count(o.ok)} ok, ${count(o.fail)} fail, ${count(o.info)} unknown` +
    (o.pending ? `, ${count(o.pending)} pending` : '') +
    (o.notIssued ? `, ${count(o.notIssued)} not sent` : '')
  );
}

type Row = [figure: string, value: string, kind: string];

/** Host-measured rows of a run. */
function hostRows(r: RunReport, wide: boolean, latencyLabel?: string): Row[] {
  const lat = r.latencyUs;
  const open = r.workload.arrival.kind === 'open';
  const rows: Row[] = [
    ['throughput', `${rate(r.throughput.requestsPerSec)} req/s`, host()],
    ['payload throughput', bytesPerSec(r.throughput.payloadBytesPerSec), host()],
    [
      latencyLabel ?? (open ? 'latency p50/p99, from arrival' : 'latency p50/p99, round trip'),
      lat ? `${us(lat.p50)} / ${us(lat.p99)} µs` : 'lost with its domain',
      host(),
    ],
    ['wall time', `${ms(r.elapsedMs)} ms`, host()],
  ];
  const half = r.throughput.secondHalfRequestsPerSec;
  if (wide && half !== null) rows.push(['throughput, second half of the wall time', `${rate(half)} req/s`, host()]);
  if (wide) rows.push(['requests per CPU-second (all threads)', rate(r.throughput.requestsPerCpuSec), host()]);
  rows.push(['busy share per domain', r.domains.map((d) => `${d.name} ${pct(d.utilisation)}`).join(', '), host()]);
  if (wide) rows.push(['busy µs per request, per domain', r.domains.map((d) => `${d.name} ${us(d.busyUsPerRequest ?? NaN)}`).join(', '), host()]);
  if (wide && r.domains.some((d) => d.onCpuUsPerRequest != null)) {
    const each = r.domains.map((d) => `${d.name} ${d.onCpuUsPerRequest == null ? '–' : `${us(d.onCpuUsPerRequest)} / ${us(d.runQueueUsPerRequest ?? NaN)}`}`);
    rows.push(['µs per request on a core / waiting, per domain', each.join(', '), host()]);
  }
  const pumped = r.domains.filter((d) => d.pump);
  const done = r.outcomes.ok + r.outcomes.fail + r.outcomes.info;
  if (wide && pumped.length && done > 0) {
    const per100 = (n: number) => ((100 * n) / done).toFixed(1);
    rows.push(['ring sleeps / notifies per 100 requests', pumped.map((d) => `${d.name} ${per100(d.pump!.sleeps)} / ${per100(d.pump!.notifies)}`).join(', '), host()]);
  }
  return rows;
}

/** Counted rows of a run, the durability check's included. */
function countedRows(r: RunReport, wide: boolean): Row[] {
  const p = r.perRequest;
  const c = r.counters;
  const rows: Row[] = [
    ['bytes copied per request', bytes(p.bytesCopied), counted()],
    ['IPC messages per request', sig3(p.ipcMessages), counted()],
  ];
  if (wide) rows.push(['domain crossings per request', sig3(p.crossings), counted()]);
  rows.push(['direct calls per request', sig3(p.directCalls), counted()]);
  if (wide) {
    rows.push(
      ['payload bytes per request', bytes(p.payloadBytes), counted()],
      ['frames sent / bytes checksummed', `${count(c.framesSent)} / ${bytes(c.bytesChecksummed)}`, counted()],
    );
  }
  rows.push(['buffer cache hits / misses', `${count(c.cacheHits)} / ${count(c.cacheMisses)}`, counted()]);
  if (c.diskWrites > 0) rows.push(['disk writes (write-through)', `${count(c.diskWrites)}, ${bytes(c.diskBytesWritten)}`, counted()]);
  const d = r.durability;
  if (d) {
    const compared = wide ? ` (${bytes(d.bytesChecked)} compared)` : '';
    rows.push(
      ['acked writes, checked on image', `${count(d.ackedWrites)}: ${count(d.verified)} verified, ${count(d.superseded)} overwritten${compared}`, counted()],
      ['acked writes lost', d.lost ? pc.red(`${count(d.lost)} LOST`) : '0', counted()],
    );
  }
  return rows;
}

const PART_NAMES: Record<CpuPart, string> = {
  app: 'app work',
  copies: 'copies',
  checksums: 'checksums',
  ipc: 'IPC (message transfer)',
  contextSwitches: 'context switches',
  syscalls: 'system calls (kernel entries)',
  frames: 'frames (stack + driver)',
  wire: 'simulated clients',
};

/** Modelled rows of a run: with `wide`, the per-request breakdown before the totals. */
function modelledRows(m: Modelled, wide: boolean): Row[] {
  const kind = modelledKind(m.label);
  const rows: Row[] = [];
  if (wide) {
    for (const [k, name] of Object.entries(PART_NAMES) as [CpuPart, string][]) {
      if (m.perRequestUs[k] > 0) rows.push([`${name}, µs per request`, us(m.perRequestUs[k]), kind]);
    }
  }
  const doms = Object.entries(m.domainsUsPerRequest);
  const split = doms.length > 1 ? ` (${doms.map(([d, x]) => `${d} ${us(x)}`).join(', ')})` : '';
  rows.push(['processor time per request', `${us(m.cpuUsPerRequest)} µs${split}`, kind]);
  if (m.diskUsPerRequest > 0) rows.push(['disk time per request', `${us(m.diskUsPerRequest)} µs`, kind]);
  rows.push(['throughput', `${rate(m.requestsPerSec)} req/s, bound by ${m.bottleneck}`, kind]);
  return rows;
}

const OUTCOME_TEXT = { restarted: 'restarted', 'given-up': 'given up', 'system-down': 'the system went down', survived: 'survived' } as const;

/** What the faults of a run did, one line each, then availability and what the supervisor did (none without faults). */
function faultLines(r: RunReport): string[] {
  if (r.faults.length === 0 && r.faultPlan.length === 0) return [];
  const lines = [para(`faults: ${count(r.faultPlan.filter((f) => f.struck).length)} of ${plural(r.faultPlan.length, 'planned fault')} struck`, pc.bold)];
  for (const f of r.faults) {
    const where = f.request !== null ? ` at request ${count(f.request)} (its message ${count(f.atMessage ?? 0)}, ${ms(f.atMs ?? 0)} ms in)` : f.noticedAtMs !== null ? ` noticed ${ms(f.noticedAtMs)} ms in` : '';
    const what = f.planned ? `${f.planned}: ${f.kind}` : `${f.server} ${f.kind} (not planned)`;
    lines.push(para(`  ${what}${where}: ${OUTCOME_TEXT[f.outcome]}`));
  }
  for (const [name, s] of Object.entries(r.servers)) {
    if (!s.restarts && !s.givenUp) continue;
    const rec = s.recoveryMs ? `, recovery p50 ${ms(s.recoveryMs.p50)} ms, max ${ms(s.recoveryMs.max)} ms` : '';
    lines.push(para(`  ${name}: ${plural(s.incarnations, 'incarnation')}, ${plural(s.restarts, 'restart')}${s.givenUp ? ', given up' : ''}${rec}, down ${ms(s.downMs)} ms (${host()})`));
  }
  const o = r.outcomes;
  const sent = o.ok + o.fail + o.info;
  lines.push(
    para(`availability: ${count(o.ok)} of ${count(sent)} requests ok (${(100 * r.availability).toFixed(2)}%)`),
    para(`${plural(r.retries.calls, 'call')} repeated, ${plural(r.retries.resentReads, 'read')} sent again, ${plural(r.resets, 'connection')} reset (${counted()})`),
  );
  return lines;
}

/** A run: what ran, its outcomes, one table of figures each with its kind, and the response digest. */
export function formatRun(r: RunReport, opts: FormatOptions = {}): string {
  const wide = opts.wide ?? false;
  const w = r.workload;
  const rows = [...hostRows(r, wide), ...countedRows(r, wide), ...modelledRows(r.modelled, wide)];
  const lines = [
    para(`microlith run: ${w.name} under ${labelOf(r)}`, pc.bold),
    para(`seed ${w.seed}, ${plural(w.requests, 'request')}, ${arrivalText(r)}`),
    para(`outcomes: ${outcomesText(r.outcomes)}`),
    grid({ columns: [{ head: 'figure' }, { head: 'value' }, { head: 'kind' }], rows, width: widthOf(opts) }),
    para(`digest of all responses: ${r.digest}`),
    ...faultLines(r),
  ];
  if (w.arrival.kind === 'open') lines.push(note("open loop: latency counts from each request's scheduled arrival to its reply."));
  if (r.status !== 'ok') lines.push(para(`FAILED: ${r.problems.join('; ')}`, pc.red));
  return lines.join('\n');
}

/** A `serve` that stopped: what the socket saw, then run()'s figures over the requests served. */
export function formatServe(r: ServeReport, opts: FormatOptions = {}): string {
  const wide = opts.wide ?? false;
  const h = r.http;
  const e = h.events;
  const rows = [...hostRows(r, wide, 'latency p50/p99, in the server (headers in to response out)'), ...countedRows(r, wide), ...modelledRows(r.modelled, wide)];
  const statuses = Object.entries(h.statuses).map(([s, n]) => `${s} ×${count(n)}`).join(', ') || 'none';
  const refused = [
    e.rejected400 && `${count(e.rejected400)} malformed (400)`,
    e.rejected405 && `${count(e.rejected405)} CONNECT (405)`,
    e.rejected414 && `${count(e.rejected414)} URI too long (414)`,
    e.rejected431 && `${count(e.rejected431)} headers too large (431)`,
    e.timedOut && `${count(e.timedOut)} too slow (408)`,
    e.idleClosed && `${count(e.idleClosed)} silent too long`,
    e.dropped && `${count(e.dropped)} over the connection limit`,
  ].filter(Boolean);
  const lines = [
    para(`microlith serve: ${r.workload.name} under ${labelOf(r)} at ${h.url}`, pc.bold),
    para(`requests served: ${count(r.workload.requests)} (${statuses}), ${bytes(h.bodyBytes)} of bodies; ${plural(e.connections, 'connection')}${h.listens > 1 ? `; the socket was bound ${h.listens} times (net restarted)` : ''}`),
    para(`refused before the kernel: ${refused.length ? refused.join(', ') : 'none'}`),
    para(`outcomes: ${outcomesText(r.outcomes)}${e.aborted ? `; ${count(e.aborted)} clients went away before their response` : ''}${r.resets ? `; ${count(r.resets)} connections reset` : ''}`),
    grid({ columns: [{ head: 'figure' }, { head: 'value' }, { head: 'kind' }], rows, width: widthOf(opts) }),
    ...faultLines(r),
  ];
  if (r.status !== 'ok') lines.push(para(`${r.status === 'failed' ? 'FAILED' : 'INCOMPLETE'}: ${r.problems.join('; ')}`, r.status === 'failed' ? pc.red : pc.yellow));
  return lines.join('\n');
}

/** `x` signed: '+' before a positive figure, '−' before a negative one (`f` formats the magnitude). */
function signed(x: number, f: (v: number) => string): string {
  const body = f(Math.abs(x));
  return x > 0 ? `+${body}` : x < 0 ? `−${body}` : body;
}

/** A count per request: whole when it is ('8'), else three significant digits ('8.50'). */
const perRequestCount = (x: number) => (Number.isInteger(x) ? count(x) : sig3(x));

/** `mean ± σ` of a factor, σ to the decimals of the mean (hyperfine's '2.41 ± 0.08'). */
function factorText(factor: number, stdev: number): string {
  const f = sig3(factor);
  const decimals = f.split('.')[1]?.length ?? 0;
  return `${f} ± ${stdev.toFixed(decimals)}`;
}

/** `head` then `text` wrapped to the budget, its continuation lines indented to the width of `head`. */
function hanging(head: string, text: string): string {
  const indent = visibleWidth(head);
  const lines = wrap(text, Math.max(20, WIDTH - indent));
  return lines.map((l, i) => (i === 0 ? head : ' '.repeat(indent)) + l).join('\n');
}

/** An aligned line if it fits (or wide), else the same words wrapped. */
const fitLine = (line: string, wide: boolean) => (wide || visibleWidth(line) <= WIDTH ? line : para(line));

/** Hyperfine's lines: each label's host-measured throughput as mean ± σ, min … max and runs. */
function throughputLines(c: Comparison, seeds: number, pad: number, wide: boolean): string[] {
  const cells = c.results.map((r) => {
    const s = r.requestsPerSec;
    return { label: r.label, mean: rate(s.mean), sd: rate(s.stdev), min: rate(s.min), max: rate(s.max), n: plural(s.n, 'run') };
  });
  const width = (k: 'mean' | 'sd' | 'min' | 'max') => Math.max(...cells.map((x) => x[k].length));
  // a sweep's cells ran once each: a value, no spread
  if (c.sweep) return [para(`throughput, ${host()}: one run per cell:`), ...cells.map((x) => fitLine(`  ${x.label.padEnd(pad)}  ${x.mean.padStart(width('mean'))} req/s`, wide))];
  return [
    para(`throughput, ${host()}: mean ± σ over ${runsText(c.rounds, seeds)}, and min … max:`),
    ...cells.map((x) =>
      fitLine(
        `  ${x.label.padEnd(pad)}  ${x.mean.padStart(width('mean'))} ± ${x.sd.padStart(width('sd'))} req/s` +
          `   [min ${x.min.padStart(width('min'))} … max ${x.max.padStart(width('max'))}]   ${x.n}`,
        wide,
      ),
    ),
  ];
}

/** Hyperfine's summary: each other label's factor slower or faster than the baseline, paired run by run. */
function relativeLines(c: Comparison, seeds: number, pad: number, wide: boolean): string[] {
  const others = c.results.filter((r) => r.relative.direction !== 'baseline');
  if (!others.length) return [];
  const pairing = seeds > 1 ? 'paired by round and seed' : 'paired by round';
  return [
    para(c.sweep ? `relative throughput, ${host()}: each cell's one run against the first cell's:` : `relative throughput, ${host()}: mean ± σ of the factors, ${pairing}:`),
    ...others.map((r) => fitLine(`  ${r.label.padEnd(pad)}  ${c.sweep ? sig3(r.relative.factor) : factorText(r.relative.factor, r.relative.stdev)} × ${r.relative.direction} than ${c.baseline}`, wide)),
  ];
}

const EXTRA_PART_NAMES: Record<CpuPart | 'disk', string> = { ...PART_NAMES, disk: 'disk (device time)' };

const COUNTED_NAMES: Array<[keyof CountedPerRequest, (x: number) => string]> = [
  ['ipcMessages', (x) => `${signed(x, perRequestCount)} IPC messages`],
  ['bytesCopied', (x) => `${signed(x, bytes)} copied`],
  ['crossings', (x) => `${signed(x, perRequestCount)} crossings`],
  ['bytesChecksummed', (x) => `${signed(x, bytes)} checksummed`],
  ['directCalls', (x) => `${signed(x, perRequestCount)} direct calls`],
];

/** Where a label's extra time per request went: its largest modelled parts against the baseline's, and the counted events behind them. */
function extraLines(r: CompareResult, pad: number, wide: boolean): string[] {
  const parts = (Object.entries(r.extra.modelledUsPerRequest) as [CpuPart | 'disk', number][])
    .filter(([, x]) => x !== 0 && sig3(Math.abs(x)) !== '0')
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  const shown = wide ? parts : parts.slice(0, 3);
  const time = shown.length
    ? shown.map(([k, x]) => `${signed(x, us)} µs ${EXTRA_PART_NAMES[k]}`).join(', ') + (parts.length > shown.length ? `, and ${plural(parts.length - shown.length, 'smaller part')}` : '')
    : 'no modelled time apart from the baseline';
  const events = COUNTED_NAMES.map(([k, f]) => [r.extra.counted[k] - r.extra.baselineCounted[k], f] as const)
    .filter(([d]) => Math.abs(d) > 1e-9)
    .map(([d, f]) => f(d));
  const head = `  ${r.label.padEnd(pad)}  `;
  return [
    hanging(head, time),
    hanging(' '.repeat(head.length), events.length ? `from ${events.join(', ')} per request (${counted()})` : `no counted events apart from the baseline (${counted()})`),
  ];
}

/** Whether the answers agree, seed by seed. */
function digestLine(c: Comparison): string {
  const bySeed = (c.seeds ?? [c.workload.seed]).map((s) => [s, c.digestsBySeed?.[String(s)] ?? []] as const);
  if (!c.digestsEqual) {
    const differ = bySeed.filter(([, d]) => d.length > 1).map(([s, d]) => `seed ${s}: ${d.length} digests`);
    return para(`DIFFERENT ANSWERS: the response digests differ between runs${differ.length ? ` (${differ.join('; ')})` : ''}`, pc.red);
  }
  if (bySeed.length === 1) return para(`same answers: every run's response digest is ${bySeed[0][1][0] ?? c.results[0].reports[0].digest}`);
  return para(`same answers under each seed (seeds make different requests): ${bySeed.map(([s, d]) => `seed ${s}: every run's digest is ${d[0] ?? 'none (no run ok)'}`).join('; ')}`);
}

/**
 * A comparison, as hyperfine reads: each label's host-measured throughput as
 * mean ± σ with its min … max and runs, each other label's factor slower or
 * faster than the baseline; then the table (one row per label, its columns
 * grouped by kind: host-measured, counted, modelled) and what it means; where
 * each label's extra time went (modelled, with the counted events behind it);
 * whether the answers agree; and the warnings on figures not to trust.
 */
export function formatComparison(c: Comparison, opts: FormatOptions = {}): string {
  const wide = opts.wide ?? false;
  const w = c.workload;
  const m = c.results[0].modelled;
  const seeds = c.seeds ?? [w.seed];
  const several = seeds.length > 1;
  const columns: Column[] = [
    { head: 'label' },
    { head: 'req/s', right: true },
    ...(wide ? [{ head: 'min–max', right: true }] : []),
    { head: 'ratio', right: true },
    ...(wide ? [{ head: 'min–max', right: true }, { head: '2nd half', right: true }] : []),
    { head: 'p50 µs', right: true },
    { head: 'p99 µs', right: true },
    { head: 'copied', right: true },
    { head: 'IPC msgs', right: true },
    ...(wide ? [{ head: 'CPU µs/req', right: true }] : []),
    { head: 'req/s', right: true },
    { head: 'ratio', right: true },
    { head: 'bound by' },
  ];
  const groups: Group[] = [
    { title: '', span: 1 },
    { title: host(), span: wide ? 7 : 4 },
    { title: pc.green('counted per request'), span: 2 },
    { title: modelledKind(m.label), span: wide ? 4 : 3 },
  ];
  const rows = c.results.map((r) => {
    const span = (s: { min: number; max: number }, f: (x: number) => string) => `${f(s.min)}–${f(s.max)}`;
    return [
      r.label,
      rate(r.requestsPerSec.median),
      ...(wide ? [span(r.requestsPerSec, rate)] : []),
      ratio(r.ratio.median),
      ...(wide ? [span(r.ratio, ratio), r.secondHalfRatio ? ratio(r.secondHalfRatio.median) : 'n/a'] : []),
      r.latencyUs ? us(r.latencyUs.p50) : 'n/a',
      r.latencyUs ? us(r.latencyUs.p99) : 'n/a',
      bytes(r.extra.counted.bytesCopied),
      sig3(r.extra.counted.ipcMessages),
      ...(wide ? [us(r.modelled.cpuUsPerRequest)] : []),
      rate(r.modelled.requestsPerSec),
      ratio(r.modelled.ratio),
      r.modelled.bottleneck,
    ];
  });
  const pad = Math.max(...c.results.map((r) => r.label.length));
  const others = c.results.filter((r) => r.relative.direction !== 'baseline');
  const over = several ? 'the runs (rounds and seeds)' : 'the rounds';
  const lines = [
    ...(c.sweep
      ? [
          para(`microlith sweep: ${w.name}, ${plural(c.sweep.cells, 'cell')} of ${Object.entries(c.sweep.params).map(([k, v]) => `${k} (${v.join(', ')})`).join(' × ')}, first cell ${c.baseline}`, pc.bold),
          para(`master seed ${c.sweep.masterSeed}: each cell ran once under a seed of its own, from the master seed and its id; ${plural(w.requests, 'request')} per cell${c.sweep.missing.length ? `; ${c.sweep.missing.length} cells missing` : ''}`),
        ]
      : [
          para(`microlith compare: ${w.name}, baseline ${c.baseline}`, pc.bold),
          para(
            `${several ? `seeds ${seeds.join(', ')}` : `seed ${seeds[0]}`}, ${plural(w.requests, 'request')}, ${plural(w.clients, 'client')}, ` +
              `${plural(c.rounds, 'interleaved round')}${c.complete ? '' : ` (incomplete: stopped after ${c.rounds} of ${c.roundsPlanned})`}`,
          ),
        ]),
    ...throughputLines(c, seeds.length, pad, wide),
    ...relativeLines(c, seeds.length, pad, wide),
    grid({ columns, groups, rows, width: widthOf(opts) }),
    note(
      `host-measured: medians over ${over} on this machine; ratio to ${c.baseline}, paired ${several ? 'by round and seed' : 'round by round'}; latency is a round trip ` +
        `(request sent to reply). counted: the same every round${several ? ' (means over the seeds)' : ''}. ${m.label}: the counted events priced by that cost profile` +
        `${wide ? '; 2nd half: the ratio over the second half of each run (once under way, without the cold start); CPU µs/req is processor time per request' : ''}; bound by: what limits the modelled throughput.`,
    ),
  ];
  if (others.length) {
    lines.push(para(`where the extra time went, µs per request against ${c.baseline}, ${modelledKind(m.label)}: the counted events priced by the profile, not measured:`));
    for (const r of others) lines.push(...extraLines(r, pad, wide));
  }
  lines.push(digestLine(c));
  const failed = c.results.flatMap((r) => r.reports.filter((x) => x.status !== 'ok').map((x) => `${r.label}: ${x.problems.join('; ')}`));
  if (failed.length) lines.push(para(`FAILED runs: ${failed.join(' | ')}`, pc.red));
  for (const warning of c.warnings ?? []) lines.push(para(`warning: ${warning}`, pc.yellow));
  return lines.join('\n');
}

/** bench ipc: one row per transport, signalling and payload size, columns grouped by kind. */
export function formatIpcBench(
  results: Array<IpcBenchResult & { modelled?: { label: string; roundTripUs: number } }>,
  opts: FormatOptions = {},
): string {
  const wide = opts.wide ?? false;
  const modelled = results[0]?.modelled?.label;
  const columns: Column[] = [
    { head: 'transport:signal' },
    { head: 'payload', right: true },
    { head: 'round trip µs', right: true },
    ...(wide ? [{ head: 'p99 µs', right: true }, { head: 'pipelined µs', right: true }] : []),
    { head: 'one-way', right: true },
    { head: 'copied', right: true },
    ...(modelled ? [{ head: 'round trip µs', right: true }] : []),
  ];
  const groups: Group[] = [
    { title: '', span: 2 },
    { title: host(), span: wide ? 4 : 2 },
    { title: counted(), span: 1 },
    ...(modelled ? [{ title: modelledKind(modelled), span: 1 }] : []),
  ];
  const rows = results.map((r) => [
    `${r.transport}:${r.signal}`,
    bytes(r.sizeBytes),
    us(r.roundTripUs.median),
    ...(wide ? [us(r.roundTripUs.p99), us(r.pipelinedRoundTripUs)] : []),
    bytesPerSec(r.oneWayMBps * 1e6),
    bytes(r.bytesCopiedPerRoundTrip),
    ...(r.modelled ? [us(r.modelled.roundTripUs)] : []),
  ]);
  return [
    grid({ columns, groups, rows, width: widthOf(opts) }),
    note(
      'host-measured: round trip = request and reply with the payload both ways, one call at a time (median)' +
        (results[0]?.inThread ? ', both ends in this thread (--in-thread: no wake-ups, no second core); ' : '; ') +
        `${wide ? 'pipelined = wall time / calls with many in flight; ' : ''}one-way = payload bytes to a sink per second. ` +
        'counted: bytes copied per round trip, both domains and directions.' +
        (modelled ? ` ${modelled}: two messages and the counted copies, priced by the profile.` : '') +
        (results.some((r) => r.transport === 'shared')
          ? ' shared: a payload in consecutive pool slots (a whole cached file) crosses as one extent descriptor, so its round trip hardly grows with size.'
          : ''),
    ),
  ].join('\n');
}

/** A cost profile: each parameter, its value as given, and where it comes from (with `wide`, how it was derived). */
export function formatProfile(p: Profile, opts: FormatOptions = {}): string {
  const rows = PARAM_NAMES.map((n) => {
    const v = p.params[n];
    const from = p.from[n] === p.file ? '' : ` (from ${p.from[n]})`;
    const derived = opts.wide && v.derivation ? `; derived: ${v.derivation}` : '';
    return [n, exact(v.value), v.unit, `${v.source}${derived}${from}`];
  });
  // long prose: wrapped to the budget also when wide (the detail is in the words, not the width)
  const columns: Column[] = [{ head: 'parameter' }, { head: 'value', right: true }, { head: 'unit' }, { head: 'source' }];
  return [para(`cost profile ${p.name} (${p.file})`, pc.bold), para(p.description), grid({ columns, rows })].join('\n');
}

/** calibrate --check: modelled against host-measured throughput, per workload and label. */
export function formatCheck(profile: string, rows: CheckRow[], opts: FormatOptions = {}): string {
  const wide = opts.wide ?? false;
  const label = `modelled (${profile})`;
  const columns: Column[] = [
    { head: 'workload' },
    { head: 'label' },
    { head: 'requests', right: true },
    { head: 'req/s', right: true },
    ...(wide ? [{ head: 'CPU µs/req', right: true }] : []),
    { head: 'req/s', right: true },
    ...(wide ? [{ head: 'CPU µs/req', right: true }] : []),
    { head: 'bound by' },
    { head: 'error', right: true },
  ];
  const groups: Group[] = [
    { title: '', span: 3 },
    { title: host(), span: wide ? 2 : 1 },
    { title: modelledKind(label), span: wide ? 3 : 2 },
    { title: '', span: 1 },
  ];
  const table = rows.map((r) => {
    const e = signedPct(r.error);
    return [
      r.workload,
      r.label,
      count(r.requests),
      rate(r.hostRequestsPerSec),
      ...(wide ? [us(r.hostCpuUsPerRequest)] : []),
      rate(r.modelledRequestsPerSec),
      ...(wide ? [us(r.modelledCpuUsPerRequest)] : []),
      r.bottleneck,
      Math.abs(r.error) <= 0.25 ? e : pc.yellow(e),
    ];
  });
  const errs = rows.map((r) => Math.abs(r.error)).filter(Number.isFinite);
  const within = errs.filter((x) => x <= 0.25).length;
  return [
    grid({ columns, groups, rows: table, width: widthOf(opts) }),
    para(`${within} of ${rows.length} within ±25%; median |error| ${pct(median(errs))}, largest ${pct(Math.max(...errs))}.`),
    note(
      'error = modelled / host-measured − 1 (positive: the model is too optimistic); host figures are single runs after a warm-up, ' +
        `on a shared machine${wide ? '; CPU µs/req: processor time per request, the whole process (host) or all domains (modelled)' : ''}.`,
    ),
  ].join('\n');
}
