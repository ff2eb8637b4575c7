/**
 * The text formatters: by default every line fits in 100 visible columns
 * (colour codes stripped), `wide` adds the details, every figure says whether it
 * is host-measured, counted or modelled, and each kind of number has one format
 * in every table. Reports are real small runs; the IPC benchmark's results and
 * the model check's rows are fixtures (they are plain data).
 */
import { stripVTControlCharacters } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';

// colour on, so that widths are measured with the codes stripped (picocolors reads this when loaded)
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

import { compare, type Comparison } from '../src/compare.js';
import type { CheckRow } from '../src/costmodel/calibrate.js';
import { priceRoundTrip } from '../src/costmodel/price.js';
import { loadProfile, shippedProfiles } from '../src/costmodel/profile.js';
import type { IpcBenchResult } from '../src/microkernel/bench-ipc.js';
import { bytes, bytesPerSec, count, exact, pct, rate, ratio, sig3, signedPct, us } from '../src/report/format.js';
import { wrap } from '../src/report/layout.js';
import { formatCheck, formatComparison, formatIpcBench, formatProfile, formatRun, outcomesText } from '../src/report/text.js';
import { run, type RunReport } from '../src/run.js';

const WIDTH = 100;
const PROFILE = 'modelled (pentium-pro-1996)';

const plain = (s: string) => stripVTControlCharacters(s);
const widest = (s: string) => Math.max(...plain(s).split('\n').map((l) => [...l].length));

const ipcResults: Array<IpcBenchResult & { modelled?: { label: string; roundTripUs: number } }> = [
  { transport: 'copy', signal: 'message', sizeBytes: 8, roundTripUs: { median: 61.234, p99: 140.5, calls: 400 }, pipelinedRoundTripUs: 12.345, oneWayMBps: 0.1234, bytesCopiedPerRoundTrip: 16, inThread: false },
  { transport: 'copy', signal: 'ring', sizeBytes: 16 * 1024 * 1024, roundTripUs: { median: 48211.7, p99: 90412.2, calls: 8 }, pipelinedRoundTripUs: 30111.4, oneWayMBps: 812.55, bytesCopiedPerRoundTrip: 64 * 1024 * 1024, inThread: false },
  { transport: 'transfer', signal: 'message', sizeBytes: 65536, roundTripUs: { median: 188.8, p99: 1203.9, calls: 100 }, pipelinedRoundTripUs: 40.01, oneWayMBps: 3041.2, bytesCopiedPerRoundTrip: 0, inThread: false },
  { transport: 'shared', signal: 'ring', sizeBytes: 1048576, roundTripUs: { median: 1234.5, p99: 4567.8, calls: 100 }, pipelinedRoundTripUs: 800.1, oneWayMBps: 1523.4, bytesCopiedPerRoundTrip: 0, inThread: false },
];
const priced = ipcResults.map((r) => ({ ...r, modelled: priceRoundTrip(loadProfile('pentium-pro-1996'), r.bytesCopiedPerRoundTrip) }));

const checkRows: CheckRow[] = [
  { workload: 'specweb96', label: 'monolithic', requests: 10000, hostRequestsPerSec: 12345.6, modelledRequestsPerSec: 10234.5, error: -0.171, hostCpuUsPerRequest: 81.24, modelledCpuUsPerRequest: 70.31, bottleneck: 'processors' },
  { workload: 'ftp-bulk', label: 'microkernel:copy', requests: 1000, hostRequestsPerSec: 45.61, modelledRequestsPerSec: 70.52, error: 0.546, hostCpuUsPerRequest: 123456.2, modelledCpuUsPerRequest: 80000.3, bottleneck: 'domain net' },
  { workload: 'mixed', label: 'microkernel:shared:ring', requests: 10000, hostRequestsPerSec: 8000, modelledRequestsPerSec: 0, error: Number.NaN, hostCpuUsPerRequest: 99, modelledCpuUsPerRequest: 0, bottleneck: 'disk' },
];

let cmp: Comparison;
let mono: RunReport;
let micro: RunReport;
let nfs: RunReport;
let open: RunReport;

beforeAll(async () => {
  cmp = await compare({ workload: 'specweb96', labels: ['monolithic', 'microkernel:copy'], requests: 200, rounds: 1, warmupRounds: 0 });
  [mono, micro] = cmp.results.map((r) => r.reports[0]);
  nfs = await run({ mode: 'monolithic', workload: 'nfs', requests: 300 });
  open = await run({ mode: 'monolithic', workload: 'specweb96', requests: 200, arrival: { kind: 'open', ratePerSec: 5000, maxInFlight: 16 } });
});

/** A comparison with long labels, a failed run and different digests: the worst case for width. */
function awkward(c: Comparison): Comparison {
  const labels = ['microkernel:shared:ring', 'microkernel:transfer:batch'];
  const results = c.results.map((r, i) => ({
    ...r,
    label: labels[i],
    reports: r.reports.map((x) => ({ ...x, status: 'failed' as const, problems: ['the net server crashed at message 1234 (injected fault): every request after it failed with EIO'] })),
  }));
  return { ...c, baseline: labels[0], digestsEqual: false, results };
}

const made = new Map<boolean, Record<string, string>>();

/** Every formatter's output for every case, by name (made once for each width). */
function outputs(wide: boolean): Record<string, string> {
  if (!made.has(wide)) made.set(wide, make(wide));
  return made.get(wide)!;
}

function make(wide: boolean): Record<string, string> {
  const o = { wide };
  const failed: RunReport = { ...micro, status: 'failed', problems: ['the disk server hung at message 77 (injected fault)', 'lost: 3 requests pending'] };
  return {
    'run monolithic': formatRun(mono, o),
    'run microkernel': formatRun(micro, o),
    'run nfs': formatRun(nfs, o),
    'run open loop': formatRun(open, o),
    'run failed': formatRun(failed, o),
    compare: formatComparison(cmp, o),
    'compare, long labels': formatComparison(awkward(cmp), o),
    'bench ipc': formatIpcBench(ipcResults, o),
    'bench ipc, priced': formatIpcBench(priced, o),
    check: formatCheck('host', checkRows, o),
    ...Object.fromEntries(shippedProfiles().map((p) => [`profile ${p}`, formatProfile(loadProfile(p), o)])),
  };
}

describe('default output fits in 100 columns', () => {
  it('colour is on, so the widths below are measured with the codes stripped', () => {
    expect(formatRun(mono)).toContain('\x1b[');
  });

  it('every line of every formatter, headers and footnotes included', () => {
    const over = Object.entries(outputs(false)).flatMap(([name, text]) =>
      plain(text)
        .split('\n')
        .filter((l) => [...l].length > WIDTH)
        .map((l) => `${name} (${[...l].length}): ${l}`),
    );
    expect(over).toEqual([]);
  });

  it('no line ends in blanks', () => {
    for (const [name, text] of Object.entries(outputs(false))) {
      for (const l of plain(text).split('\n')) expect(l, name).toBe(l.trimEnd());
    }
  });

  it('wrapping breaks at spaces, and a long word after a separator', () => {
    expect(wrap('one two three', 7)).toEqual(['one two', 'three']);
    expect(wrap('microkernel:shared:ring', 17)).toEqual(['microkernel:', 'shared:ring']);
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });
});

describe('each figure says what it is', () => {
  it.each([
    ['run', () => formatRun(micro)],
    ['compare', () => formatComparison(cmp)],
    ['bench ipc', () => formatIpcBench(priced)],
  ])('%s names host-measured, counted and modelled (pentium-pro-1996)', (_, f) => {
    const text = plain(f());
    for (const label of ['host-measured', 'counted', PROFILE]) expect(text).toContain(label);
  });

  it('check names host-measured and the profile it checks', () => {
    const text = plain(formatCheck('host', checkRows));
    expect(text).toContain('host-measured');
    expect(text).toContain('modelled (host)');
  });

  it('every row of the run table has a kind', () => {
    const kinds = ['host-measured', 'counted', PROFILE];
    for (const r of [mono, micro, nfs]) {
      for (const wide of [false, true]) {
        const rows = tables(formatRun(r, { wide }))[0].rows.filter((row) => row[2] !== '');
        for (const row of rows) expect(kinds, row.join(' | ')).toContain(row[2]);
      }
    }
  });

  it('latency says round trip, or from the scheduled arrival in an open loop', () => {
    expect(plain(formatRun(mono))).toContain('latency p50/p99, round trip');
    expect(plain(formatRun(open))).toContain('latency p50/p99, from arrival');
    expect(plain(formatRun(open))).toContain("latency counts from each request's scheduled arrival");
    expect(plain(formatComparison(cmp))).toContain('latency is a round trip');
    expect(plain(formatIpcBench(ipcResults))).toContain('round trip = request and reply');
  });

  it('outcomes are ok / fail / unknown, then pending and not sent', () => {
    expect(plain(formatRun(mono))).toContain('outcomes: 200 ok, 0 fail, 0 unknown\n');
    expect(plain(formatRun(mono))).not.toMatch(/\binfo\b/);
    expect(outcomesText({ ok: 1200, fail: 2, info: 3, pending: 4, notIssued: 5 })).toBe('1,200 ok, 2 fail, 3 unknown, 4 pending, 5 not sent');
  });

  it('the durability check shows on the nfs run, lost writes included', () => {
    const text = plain(formatRun(nfs));
    expect(text).toMatch(/acked writes, checked on image +[\d,]+: [\d,]+ verified, [\d,]+ overwritten/);
    expect(text).toMatch(/acked writes lost +0 +counted/);
  });
});

describe('wide shows the details', () => {
  const extra: Array<[string, (wide: boolean) => string, string[]]> = [
    [
      'run',
      (wide) => formatRun(micro, { wide }),
      ['requests per CPU-second', 'busy µs per request, per domain', 'domain crossings per request', 'payload bytes per request', 'frames sent / bytes checksummed', 'context switches, µs per request', 'IPC (message transfer), µs per request'],
    ],
    ['run nfs', (wide) => formatRun(nfs, { wide }), ['compared)']],
    ['compare', (wide) => formatComparison(cmp, { wide }), ['min–max', 'CPU µs/req']],
    ['bench ipc', (wide) => formatIpcBench(priced, { wide }), ['p99 µs', 'pipelined µs']],
    ['check', (wide) => formatCheck('host', checkRows, { wide }), ['CPU µs/req']],
    ['profile', (wide) => formatProfile(loadProfile('pentium-pro-1996'), { wide }), ['derived:']],
  ];
  it.each(extra)('%s: only with wide', (_, f, details) => {
    const narrow = plain(f(false));
    const wide = plain(f(true));
    for (const d of details) {
      expect(narrow, d).not.toContain(d);
      expect(wide, d).toContain(d);
    }
  });

  it('wide keeps everything the default shows', () => {
    const narrow = plain(formatRun(micro));
    const wide = plain(formatRun(micro, { wide: true }));
    for (const row of tables(narrow)[0].rows) expect(wide).toContain(row[0]);
  });
});

describe('number formats', () => {
  it('count: whole numbers, grouped', () => {
    expect(count(0)).toBe('0');
    expect(count(999.6)).toBe('1,000');
    expect(count(1234567)).toBe('1,234,567');
    expect(count(Number.NaN)).toBe('n/a');
  });

  it('sig3, rate, us: three significant digits, grouped', () => {
    expect(sig3(0)).toBe('0');
    expect(sig3(8)).toBe('8.00');
    expect(sig3(0.6812)).toBe('0.681');
    expect(rate(7756.2)).toBe('7,760');
    expect(rate(123456)).toBe('123,000');
    expect(us(13727)).toBe('13,700');
    expect(us(61.234)).toBe('61.2');
    expect(sig3(-0.1714)).toBe('−0.171');
    expect(us(Number.POSITIVE_INFINITY)).toBe('n/a');
  });

  it('ratio: three significant digits and ×', () => {
    expect(ratio(1)).toBe('1.00×');
    expect(ratio(0.36641)).toBe('0.366×');
    expect(ratio(Number.NaN)).toBe('n/a');
  });

  it('bytes: B below 1 KiB, then KiB, MiB, GiB to three significant digits', () => {
    expect(bytes(0)).toBe('0 B');
    expect(bytes(41.3)).toBe('41 B');
    expect(bytes(1023)).toBe('1,023 B');
    expect(bytes(1024)).toBe('1.00 KiB');
    expect(bytes(14301)).toBe('14.0 KiB');
    expect(bytes(1048575)).toBe('1.00 MiB');
    expect(bytes(28.6e6)).toBe('27.3 MiB');
    expect(bytes(3 * 2 ** 30)).toBe('3.00 GiB');
    expect(bytesPerSec(1523.4e6)).toBe('1.42 GiB/s');
  });

  it('pct and signedPct: whole percentages', () => {
    expect(pct(0.344)).toBe('34%');
    expect(pct(1)).toBe('100%');
    expect(signedPct(0.171)).toBe('+17%');
    expect(signedPct(-0.13)).toBe('−13%');
    expect(signedPct(0.001)).toBe('0%');
    expect(signedPct(Number.NaN)).toBe('n/a');
  });

  it('exact: a profile parameter with all its digits', () => {
    expect(exact(0.1233)).toBe('0.1233');
    expect(exact(2621)).toBe('2,621');
  });
});

/** A number as printed ('7,760', '−0.171') back to a number. */
const parse = (s: string) => Number(s.replace(/,/g, '').replace('−', '-'));

/** Checks that a cell is in the format of its kind: formatting what it says gives it back. */
const FORMATS: Record<string, (cell: string) => boolean> = {
  sig3: (c) => c === 'n/a' || sig3(parse(c)) === c,
  ratio: (c) => c === 'n/a' || (c.endsWith('×') && ratio(parse(c.slice(0, -1))) === c),
  count: (c) => /^[\d,]+$/.test(c) && count(parse(c)) === c,
  bytes: (c) => {
    const m = /^([\d,.]+) (B|KiB|MiB|GiB)$/.exec(c);
    return !!m && bytes(parse(m[1]) * 1024 ** ['B', 'KiB', 'MiB', 'GiB'].indexOf(m[2])) === c;
  },
  bytesPerSec: (c) => c.endsWith('/s') && FORMATS.bytes(c.slice(0, -2)),
  signedPct: (c) => c === 'n/a' || /^(?:[+−][1-9][\d,]*|0)%$/.test(c),
};

/** The format of a table column, by its head (the unit or what it counts). */
function formatOfColumn(head: string): string | null {
  if (/µs/.test(head) || head === 'req/s' || head === 'IPC msgs') return 'sig3';
  if (head === 'ratio') return 'ratio';
  if (head === 'requests') return 'count';
  if (head === 'copied' || head === 'payload') return 'bytes';
  if (head === 'one-way') return 'bytesPerSec';
  if (head === 'error') return 'signedPct';
  return null;
}

/**
 * The tables in `text`: the line above a rule of '─' runs is the head; the rows
 * follow while the blanks between columns are blank (prose has no double blanks).
 */
function tables(text: string): Array<{ heads: string[]; rows: string[][] }> {
  const lines = plain(text).split('\n');
  const out: Array<{ heads: string[]; rows: string[][] }> = [];
  lines.forEach((rule, i) => {
    if (!/^─+(?: {2}─+)*$/.test(rule)) return;
    const starts = [...rule.matchAll(/─+/g)].map((m) => m.index);
    const cut = (l: string) => starts.map((a, j) => l.slice(a, starts[j + 1]).trim());
    const gapsBlank = (l: string) => starts.slice(1).every((a) => l.length <= a - 2 || l.slice(a - 2, a) === '  ');
    // a row reaches past its first column, or continues a wrapped one (first column blank)
    const isRow = (l: string) => gapsBlank(l) && (l.length > starts[1] || l.startsWith(' '));
    const rows: string[][] = [];
    for (const l of lines.slice(i + 1)) {
      if (!isRow(l)) break;
      rows.push(cut(l));
    }
    out.push({ heads: cut(lines[i - 1]), rows });
  });
  return out;
}

describe('one format per kind of figure, in every table', () => {
  it('the tables are found', () => {
    const t = tables(formatComparison(cmp));
    expect(t).toHaveLength(1);
    expect(t[0].heads).toEqual(['label', 'req/s', 'ratio', 'p50 µs', 'p99 µs', 'copied', 'IPC msgs', 'req/s', 'ratio', 'bound by']);
    expect(t[0].rows.map((r) => r[0])).toEqual(['monolithic', 'microkernel:copy']);
  });

  it.each([false, true])('every column of every table has the format of its kind (wide: %s)', (wide) => {
    let checked = 0;
    for (const [name, text] of Object.entries(outputs(wide))) {
      for (const t of tables(text)) {
        t.heads.forEach((head, j) => {
          const format = formatOfColumn(head);
          if (!format) return;
          for (const row of t.rows.filter((r) => r[j] !== '')) {
            // blank: the continuation of a wrapped cell in another column
            expect(FORMATS[format](row[j]), `${name}: '${row[j]}' under '${head}' is not ${format}`).toBe(true);
            checked++;
          }
        });
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it.each([false, true])('figures in running text and the run table: µs, req/s, ms, bytes and % (wide: %s)', (wide) => {
    for (const [name, raw] of Object.entries(outputs(wide))) {
      if (name.startsWith('profile')) continue; // a profile's sources quote their papers' own figures
      const text = plain(raw);
      for (const m of text.matchAll(/(?<![\w.,])(−?[\d,]*\d(?:\.\d+)?) (µs|ms|req\/s)\b/g)) {
        // the whole line, so that a figure that only shows on a loaded machine can be traced
        const line = text.slice(text.lastIndexOf('\n', m.index) + 1, text.indexOf('\n', m.index) >>> 0);
        expect(FORMATS.sig3(m[1]), `${name}: '${m[0]}' in the line ${JSON.stringify(line)}`).toBe(true);
      }
      for (const m of text.matchAll(/(?<![\w.,])([\d,]*\d(?:\.\d+)?) (B|KiB|MiB|GiB)\b/g)) {
        expect(FORMATS.bytes(`${m[1]} ${m[2]}`), `${name}: '${m[0]}'`).toBe(true);
      }
      for (const m of text.matchAll(/[\d.,]+%/g)) expect(m[0], name).toMatch(/^[\d,]+%$/);
      expect(text, name).not.toMatch(/\d (?:MB|kB|KB)\b/);
    }
  });

  it('counts in the run table are whole and grouped', () => {
    const value = (r: RunReport, figure: string) => tables(formatRun(r))[0].rows.find((row) => row[0] === figure)?.[1];
    expect(value(mono, 'buffer cache hits / misses')).toBe(`${count(mono.counters.cacheHits)} / ${count(mono.counters.cacheMisses)}`);
    expect(value(micro, 'IPC messages per request')).toBe(sig3(micro.perRequest.ipcMessages));
    expect(value(micro, 'bytes copied per request')).toBe(bytes(micro.perRequest.bytesCopied));
  });
});
