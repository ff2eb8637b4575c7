/**
 * Exports of a run or a comparison for other tools: CSV (one row per run, every
 * column named with its unit and its kind) and a GitHub-flavoured Markdown
 * table (one row per label). A single `RunReport` is exported as a comparison
 * of one label and one round (`comparisonOf`).
 *
 * Every column says what kind of figure it holds: host-measured (this
 * machine's clock; `_host` in CSV), counted (deterministic events; `_counted`)
 * or modelled (the counted events priced by a cost profile; `modelled_`).
 */
import { comparisonOfRun, type CompareResult, type Comparison } from '../compare.js';
import type { RunReport } from '../run.js';
import { bytes, count, rate, ratio, sig3, us } from './format.js';

/** A comparison, or a single run (exported as a comparison of one label and one round). */
export type Exportable = Comparison | RunReport;

/** True for a comparison, false for a single run's report. */
export function isComparison(x: Exportable): x is Comparison {
  return Array.isArray((x as Comparison).results);
}

/**
 * A single run as a comparison of one label (its own baseline), one measured
 * round and its one seed: throughput stats of one value, ratio and factor 1,
 * no extra time, and the run's latency and modelled figures. (The same as
 * `comparisonOfRun` of compare.ts, which summarises it as `compare()` does.)
 */
export function comparisonOf(report: RunReport): Comparison {
  return comparisonOfRun(report);
}

/** `x` as a comparison: itself, or a single run's `comparisonOf`. */
export function asComparison(x: Exportable): Comparison {
  return isComparison(x) ? x : comparisonOf(x);
}

/** One CSV column: its header (name, unit and kind) and its value for one run of one label. */
export interface CsvColumn {
  /** The header: snake_case, with its unit and kind (`_host`, `_counted`, `modelled_`). */
  name: string;
  /** The cell of run `report` of label `result`, in measured round `round` (from 0); null is an empty cell. */
  value: (result: CompareResult, report: RunReport, round: number) => string | number | null;
}

/** A per-request figure of each domain, summed over the run's domains (rounded to ns); null if a domain lacks it. */
export function domainsSum(r: RunReport, figure: (d: RunReport['domains'][number]) => number | null | undefined): number | null {
  let sum = 0;
  for (const d of r.domains) {
    const x = figure(d);
    if (x === null || x === undefined || !Number.isFinite(x)) return null;
    sum += x;
  }
  return r.domains.length ? Math.round(sum * 1000) / 1000 : null;
}

/**
 * The CSV columns, in order. Numbers are written in full (JavaScript's
 * shortest exact form), so that parsing a cell gives the report's figure back.
 */
export const CSV_COLUMNS: readonly CsvColumn[] = [
  { name: 'label', value: (l) => l.label },
  { name: 'mode', value: (_l, r) => r.mode },
  { name: 'transport', value: (_l, r) => r.transport },
  { name: 'signal', value: (_l, r) => r.signal },
  { name: 'seed', value: (_l, r) => r.workload.seed },
  { name: 'round', value: (_l, _r, i) => i },
  { name: 'status', value: (_l, r) => r.status },
  { name: 'requests_per_sec_host', value: (_l, r) => r.throughput.requestsPerSec },
  { name: 'second_half_requests_per_sec_host', value: (_l, r) => r.throughput.secondHalfRequestsPerSec },
  { name: 'p50_us_host', value: (_l, r) => r.latencyUs?.p50 ?? null },
  { name: 'p99_us_host', value: (_l, r) => r.latencyUs?.p99 ?? null },
  { name: 'busy_us_per_request_host', value: (_l, r) => domainsSum(r, (d) => d.busyUsPerRequest) },
  { name: 'on_cpu_us_per_request_host', value: (_l, r) => domainsSum(r, (d) => d.onCpuUsPerRequest) },
  { name: 'run_queue_us_per_request_host', value: (_l, r) => domainsSum(r, (d) => d.runQueueUsPerRequest) },
  { name: 'bytes_copied_per_request_counted', value: (_l, r) => r.perRequest.bytesCopied },
  { name: 'ipc_messages_per_request_counted', value: (_l, r) => r.perRequest.ipcMessages },
  { name: 'crossings_per_request_counted', value: (_l, r) => r.perRequest.crossings },
  { name: 'direct_calls_per_request_counted', value: (_l, r) => r.perRequest.directCalls },
  { name: 'modelled_profile', value: (_l, r) => r.modelled.profile },
  { name: 'modelled_requests_per_sec', value: (_l, r) => r.modelled.requestsPerSec },
  { name: 'modelled_cpu_us_per_request', value: (_l, r) => r.modelled.cpuUsPerRequest },
  { name: 'digest', value: (_l, r) => r.digest },
];

/** One CSV field, quoted as RFC 4180 says when it holds a comma, a double quote, CR or LF (a quote inside doubled). */
export function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV (RFC 4180: CRLF line ends, fields quoted where needed) of every measured
 * run: a header row (`CSV_COLUMNS`), then one row per run, label by label, in
 * the order run (round by round, and within a round seed by seed). A single
 * run is one row.
 */
export function toCsv(x: Exportable): string {
  const c = asComparison(x);
  const seeds = (c.seeds ?? []).length || 1;
  const rows = [CSV_COLUMNS.map((col) => col.name)];
  for (const result of c.results) {
    result.reports.forEach((report, i) => rows.push(CSV_COLUMNS.map((col) => csvField(col.value(result, report, Math.floor(i / seeds))))));
  }
  return rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
}

/**
 * Parse RFC 4180 CSV into its records, each a list of fields as strings (the
 * header row included, first). Accepts CRLF or LF line ends; a line break at
 * the end ends the last record rather than starting an empty one. Throws on a
 * quote left open or a character after a closing quote.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n') throw new Error(`CSV: unexpected '${next}' after a closing quote at offset ${i}`);
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      i++;
    } else if (ch === ',') {
      endField();
      i++;
    } else if (ch === '\r' && text[i + 1] === '\n') {
      endRow();
      i += 2;
    } else if (ch === '\n') {
      endRow();
      i++;
    } else {
      field += ch;
      i++;
    }
  }
  if (quoted) throw new Error('CSV: a quoted field is not closed');
  if (field !== '' || row.length) endRow();
  return rows;
}

/** "seed 42", or "seeds 1, 2, 3". */
function seedsText(c: Comparison): string {
  const seeds = (c.seeds ?? []).length ? c.seeds : [c.workload.seed];
  return `${seeds.length > 1 ? 'seeds' : 'seed'} ${mdCell(seeds.map(String).join(', '))}`;
}

/** A Markdown table cell: pipes and backslashes escaped, line breaks as spaces. */
function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

/** The Markdown columns: header, alignment and cell of one label. */
const MD_COLUMNS: readonly { head: string; right: boolean; cell: (r: CompareResult) => string }[] = [
  { head: 'label', right: false, cell: (r) => r.label },
  { head: 'req/s (mean ± σ)', right: true, cell: (r) => `${rate(r.requestsPerSec.mean)} ± ${rate(r.requestsPerSec.stdev)}` },
  { head: 'min…max req/s', right: true, cell: (r) => `${rate(r.requestsPerSec.min)}…${rate(r.requestsPerSec.max)}` },
  { head: 'runs', right: true, cell: (r) => count(r.requestsPerSec.n) },
  { head: 'ratio (mean)', right: true, cell: (r) => ratio(r.ratio.mean) },
  { head: 'p50 µs', right: true, cell: (r) => (r.latencyUs ? us(r.latencyUs.p50) : 'n/a') },
  { head: 'p99 µs', right: true, cell: (r) => (r.latencyUs ? us(r.latencyUs.p99) : 'n/a') },
  { head: 'copied /req', right: true, cell: (r) => bytes(r.reports[r.reports.length - 1].perRequest.bytesCopied) },
  { head: 'IPC msgs /req', right: true, cell: (r) => sig3(r.reports[r.reports.length - 1].perRequest.ipcMessages) },
  { head: 'modelled req/s', right: true, cell: (r) => rate(r.modelled.requestsPerSec) },
  { head: 'bound by', right: false, cell: (r) => r.modelled.bottleneck },
];

/**
 * A GitHub-flavoured Markdown summary: a heading line (workload, seed,
 * rounds), a table with one row per label (`MD_COLUMNS`), and a line saying
 * which columns are host-measured, counted and modelled.
 */
export function toMarkdown(x: Exportable): string {
  const c = asComparison(x);
  const w = c.workload;
  const profile = c.results[0]?.modelled.label ?? 'modelled';
  const lines = [
    `**microlith ${c.sweep ? `sweep over ${mdCell(Object.keys(c.sweep.params).join(', '))}` : isComparison(x) ? 'compare' : 'run'}: ${mdCell(w.name)}**, ${seedsText(c)}, ${count(w.requests)} requests, ` +
      `${count(c.rounds)} round${c.rounds === 1 ? '' : 's'}${c.complete ? '' : ` of ${count(c.roundsPlanned)} planned (stopped early)`}, baseline ${mdCell(c.baseline)}`,
    '',
    `| ${MD_COLUMNS.map((col) => mdCell(col.head)).join(' | ')} |`,
    `| ${MD_COLUMNS.map((col) => (col.right ? '---:' : ':---')).join(' | ')} |`,
    ...c.results.map((r) => `| ${MD_COLUMNS.map((col) => mdCell(col.cell(r))).join(' | ')} |`),
    '',
    `host-measured (this machine's clock, over the runs): req/s, min…max, ratio to ${mdCell(c.baseline)} (paired run by run), p50/p99 µs (medians over the runs); ` +
      `runs: measured runs (rounds × seeds); counted (deterministic events, the last run): copied bytes and IPC messages per request; ` +
      `${mdCell(profile)} (the counted events priced by that cost profile, not measured): modelled req/s and what bounds it.`,
  ];
  if (!c.digestsEqual) lines.push('', '**DIFFERENT ANSWERS**: the response digests differ between runs.');
  const warnings = isComparison(x) ? (c.warnings ?? []) : [];
  if (warnings.length) lines.push('', ...warnings.map((w) => `- ${mdCell(w)}`));
  return lines.join('\n') + '\n';
}
