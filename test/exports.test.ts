/**
 * The exports of a comparison and of a run: the latency CDF they carry, and
 * JSON, CSV, Markdown and HTML, each read back: the same object from JSON, the
 * same figures per run from CSV, one row per label with its mean in Markdown,
 * and an HTML page that fetches nothing and names every label.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compare, type Comparison } from '../src/compare.js';
import { CDF_PERCENTILES, LatencyRecorder } from '../src/metrics/latency.js';
import type { RunReport } from '../src/run.js';
import { comparisonOf, CSV_COLUMNS, csvField, parseCsv, toCsv, toMarkdown } from '../src/report/export.js';
import { escapeHtml, toHtml } from '../src/report/html.js';
import { rate, ratio } from '../src/report/format.js';
import { loadProfile, shippedProfiles } from '../src/costmodel/profile.js';

const LABELS = ['monolithic', 'microkernel:copy', 'microkernel:shared'];
const ROUNDS = 2;

describe('latency CDF', () => {
  it('holds the latency at each percentile from 0 (the exact min) to 100 (the exact max), non-decreasing', () => {
    const rec = new LatencyRecorder();
    // 1..1000 µs and one slow outlier whose HDR bucket tops out above it
    for (let v = 1; v <= 1000; v++) rec.record(v);
    rec.record(123_457);
    const s = rec.summary();
    expect(s.cdf.map(([p]) => p)).toEqual([...CDF_PERCENTILES]);
    expect(s.cdf.map(([p]) => p)).toEqual([0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100]);
    expect(s.cdf[0][1]).toBe(1);
    expect(s.cdf[s.cdf.length - 1][1]).toBe(123_457);
    for (let i = 1; i < s.cdf.length; i++) expect(s.cdf[i][1], `p${s.cdf[i][0]}`).toBeGreaterThanOrEqual(s.cdf[i - 1][1]);
    for (const [, v] of s.cdf) expect(v).toBeLessThanOrEqual(s.max);
    // values below 2048 are exact at 3 significant digits: the median of these 1,001 samples is the 501st
    const p50 = s.cdf.find(([p]) => p === 50)![1];
    expect(p50).toBe(501);
    expect(p50).toBe(s.p50);
    expect(s.cdf.find(([p]) => p === 99)![1]).toBe(s.p99);
  });

  it('never lies above the exact max when every sample falls in one bucket', () => {
    const rec = new LatencyRecorder();
    for (let i = 0; i < 100; i++) rec.record(10_001);
    expect(rec.summary().cdf.every(([, v]) => v === 10_001)).toBe(true);
  });

  it('is empty without samples', () => {
    expect(new LatencyRecorder().summary().cdf).toEqual([]);
  });
});

describe('exports of a real comparison', () => {
  let cmp: Comparison;
  let single: RunReport;

  beforeAll(async () => {
    cmp = await compare({ requests: 200, rounds: ROUNDS, warmupRounds: 0, labels: LABELS });
    single = cmp.results[1].reports[0];
  });

  it('every run carries its latency CDF, ending at its max', () => {
    for (const r of cmp.results.flatMap((x) => x.reports)) {
      const l = r.latencyUs!;
      expect(l.cdf).toHaveLength(CDF_PERCENTILES.length);
      expect(l.cdf[l.cdf.length - 1]).toEqual([100, l.max]);
      expect(l.cdf.find(([p]) => p === 50)![1]).toBe(l.p50);
    }
  });

  it('JSON parses back to the same object', () => {
    expect(JSON.parse(JSON.stringify(cmp))).toStrictEqual(cmp);
    expect(JSON.parse(JSON.stringify(single))).toStrictEqual(single);
  });

  describe('CSV', () => {
    it('has a header naming units and kinds, and one row per label and round', () => {
      const text = toCsv(cmp);
      expect(text.endsWith('\r\n')).toBe(true);
      const rows = parseCsv(text);
      expect(rows[0]).toEqual(CSV_COLUMNS.map((c) => c.name));
      for (const h of ['requests_per_sec_host', 'second_half_requests_per_sec_host', 'p50_us_host', 'p99_us_host', 'on_cpu_us_per_request_host', 'bytes_copied_per_request_counted', 'ipc_messages_per_request_counted', 'modelled_requests_per_sec', 'modelled_cpu_us_per_request']) {
        expect(rows[0]).toContain(h);
      }
      expect(rows.length - 1).toBe(LABELS.length * ROUNDS);
      for (const row of rows) expect(row).toHaveLength(CSV_COLUMNS.length);
    });

    it('gives back the same figures for every run', () => {
      const [head, ...rows] = parseCsv(toCsv(cmp));
      const col = (row: string[], name: string) => row[head.indexOf(name)];
      const seen = new Set<string>();
      for (const row of rows) {
        const result = cmp.results.find((r) => r.label === col(row, 'label'))!;
        expect(result, col(row, 'label')).toBeDefined();
        const round = Number(col(row, 'round'));
        const r = result.reports[round];
        seen.add(`${result.label}#${round}`);
        expect(col(row, 'mode')).toBe(r.mode);
        expect(col(row, 'transport')).toBe(r.transport ?? '');
        expect(col(row, 'signal')).toBe(r.signal ?? '');
        expect(col(row, 'seed')).toBe(String(r.workload.seed));
        expect(col(row, 'status')).toBe(r.status);
        expect(Number(col(row, 'requests_per_sec_host'))).toBe(r.throughput.requestsPerSec);
        expect(Number(col(row, 'p50_us_host'))).toBe(r.latencyUs!.p50);
        expect(Number(col(row, 'p99_us_host'))).toBe(r.latencyUs!.p99);
        expect(Number(col(row, 'second_half_requests_per_sec_host'))).toBe(r.throughput.secondHalfRequestsPerSec);
        // summed over the run's domains (the monolith has one, the microkernel three), to the ns
        const sum = (f: (d: (typeof r.domains)[number]) => number | null | undefined) => Math.round(r.domains.reduce((n, d) => n + f(d)!, 0) * 1000) / 1000;
        expect(Number(col(row, 'busy_us_per_request_host'))).toBe(sum((d) => d.busyUsPerRequest));
        expect(Number(col(row, 'on_cpu_us_per_request_host'))).toBe(sum((d) => d.onCpuUsPerRequest));
        expect(Number(col(row, 'run_queue_us_per_request_host'))).toBe(sum((d) => d.runQueueUsPerRequest));
        expect(Number(col(row, 'bytes_copied_per_request_counted'))).toBe(r.perRequest.bytesCopied);
        expect(Number(col(row, 'ipc_messages_per_request_counted'))).toBe(r.perRequest.ipcMessages);
        expect(Number(col(row, 'crossings_per_request_counted'))).toBe(r.perRequest.crossings);
        expect(Number(col(row, 'direct_calls_per_request_counted'))).toBe(r.perRequest.directCalls);
        expect(Number(col(row, 'modelled_requests_per_sec'))).toBe(r.modelled.requestsPerSec);
        expect(Number(col(row, 'modelled_cpu_us_per_request'))).toBe(r.modelled.cpuUsPerRequest);
        expect(col(row, 'modelled_profile')).toBe(r.modelled.profile);
        expect(col(row, 'digest')).toBe(r.digest);
      }
      expect(seen.size).toBe(LABELS.length * ROUNDS);
      // the figures differ between the kernels: the rows are not one run repeated
      const copied = (label: string) => Number(col(rows.find((row) => col(row, 'label') === label)!, 'bytes_copied_per_request_counted'));
      expect(copied('microkernel:copy')).toBeGreaterThan(copied('monolithic'));
    });

    it('a single run is one row', () => {
      const rows = parseCsv(toCsv(single));
      expect(rows).toHaveLength(2);
      expect(rows[1][0]).toBe('microkernel:copy');
      expect(Number(rows[1][CSV_COLUMNS.findIndex((c) => c.name === 'round')])).toBe(0);
    });

    it('quotes fields as RFC 4180 says, and reads them back', () => {
      const odd = 'a,"b"\r\nc';
      expect(csvField(odd)).toBe('"a,""b""\r\nc"');
      expect(csvField('plain')).toBe('plain');
      expect(csvField(null)).toBe('');
      const x: Comparison = structuredClone(cmp);
      x.results[0].label = odd;
      x.results[0].reports[0].digest = 'd"1,\n2';
      const rows = parseCsv(toCsv(x));
      expect(rows.length - 1).toBe(LABELS.length * ROUNDS);
      expect(rows[1][0]).toBe(odd);
      expect(rows[1][CSV_COLUMNS.length - 1]).toBe('d"1,\n2');
      expect(parseCsv('a,b\nc,d\n')).toEqual([['a', 'b'], ['c', 'd']]);
      expect(parseCsv('a,,"",b')).toEqual([['a', '', '', 'b']]);
      expect(() => parseCsv('"open')).toThrow(/not closed/);
      expect(() => parseCsv('"a"b')).toThrow(/after a closing quote/);
    });
  });

  describe('Markdown', () => {
    const tableRows = (md: string) => md.split('\n').filter((l) => l.startsWith('|'));
    const cells = (line: string) => line.slice(2, -2).split(' | ');

    it('has one row per label with its mean ± σ, runs, and what each column is', () => {
      const md = toMarkdown(cmp);
      const rows = tableRows(md);
      expect(rows).toHaveLength(2 + LABELS.length);
      const head = cells(rows[0]);
      expect(head[0]).toBe('label');
      expect(rows[1]).toMatch(/^\| :--- \| ---: /);
      for (const [i, label] of LABELS.entries()) {
        const row = cells(rows[2 + i]);
        const reports = cmp.results[i].reports;
        const rps = reports.map((r) => r.throughput.requestsPerSec);
        const mean = rps.reduce((a, b) => a + b, 0) / rps.length;
        const sd = Math.sqrt(rps.reduce((a, x) => a + (x - mean) ** 2, 0) / (rps.length - 1));
        expect(row[0]).toBe(label);
        expect(row[head.indexOf('req/s (mean ± σ)')]).toBe(`${rate(mean)} ± ${rate(sd)}`);
        expect(row[head.indexOf('min…max req/s')]).toBe(`${rate(Math.min(...rps))}…${rate(Math.max(...rps))}`);
        expect(row[head.indexOf('runs')]).toBe(String(ROUNDS));
        // the paired ratio's mean, and the header says so (the text table shows its median)
        expect(row[head.indexOf('ratio (mean)')]).toBe(ratio(cmp.results[i].ratio.mean));
        expect(row[head.indexOf('modelled req/s')]).toBe(rate(reports[reports.length - 1].modelled.requestsPerSec));
        expect(row[head.indexOf('bound by')]).toBe(cmp.results[i].modelled.bottleneck);
      }
      expect(md).toMatch(/host-measured[^\n]*counted[^\n]*modelled \(pentium-pro-1996\)/);
    });

    it('a single run is one row, its own baseline', () => {
      const rows = tableRows(toMarkdown(single));
      expect(rows).toHaveLength(3);
      const row = cells(rows[2]);
      expect(row[0]).toBe('microkernel:copy');
      expect(row[1]).toBe(`${rate(single.throughput.requestsPerSec)} ± 0`);
      expect(row[4]).toBe('1.00×');
    });
  });

  describe('HTML', () => {
    it('fetches nothing, runs no script, and names every label', () => {
      const html = toHtml(cmp, { profiles: shippedProfiles().map((n) => loadProfile(n)) });
      expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/<link\b|<img\b|<iframe\b|<object\b|<embed\b|@import|@font-face/i);
      // a URL may appear in text, never inside a tag (an attribute)
      expect(html).not.toMatch(/<[^>]*https?:\/\//i);
      for (const [, target] of html.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]*)/gi)) expect(target).toMatch(/^data:/);
      // the only url() is the sequence diagram's arrowhead, a fragment of this page
      for (const [, target] of html.matchAll(/url\(([^)]*)\)/g)) expect(target).toMatch(/^#/);
      for (const label of LABELS) expect(html).toContain(label);
      expect(html).toMatch(/<title>[^<]+<\/title>/);
      expect(html.match(/<svg /g)!.length).toBe(html.match(/<\/svg>/g)!.length);
      // one modelled chart per profile, and a radio each to pick it
      expect(html.match(/type="radio"/g)).toHaveLength(shippedProfiles().length);
      expect(html).toContain(`${cmp.results[0].reports[0].env.cpuModel}`.replace(/&/g, '&amp;'));
    });

    it('says how to get a message sequence when it has none, and draws one when given', () => {
      expect(toHtml(cmp)).toContain('--trace');
      const html = toHtml(cmp, {
        sequence: { reqId: 7, request: 'GET /a', steps: [{ from: 'wire', to: 'net', type: 'HTTP', kind: 'call', sentUs: 0, handledUs: 3 }] },
      });
      expect(html).toContain('data-chart="sequence"');
      expect(html).not.toContain('--trace');
    });

    it('escapes every text it puts in the page', () => {
      const x: Comparison = structuredClone(cmp);
      x.results[0].label = '<script>alert(1)</script>';
      x.workload.name = 'w"><img src=x onerror=alert(1)>';
      const html = toHtml(x, {
        title: 'a & <b>',
        sequence: { reqId: 1, request: '<i>GET</i>', steps: [{ from: '<wire>', to: 'net"', type: '<T>', kind: 'call', sentUs: 1, handledUs: 2 }] },
      });
      expect(html).not.toMatch(/<script|<img|<i>|<b>|<wire>|<T>/);
      expect(html).toContain(escapeHtml('<script>alert(1)</script>'));
      expect(html).toContain('<title>a &amp; &lt;b&gt;</title>');
      expect(html).toContain('w&quot;&gt;&lt;img src=x');
    });

    it('a single run is a page of its one label', () => {
      const html = toHtml(single);
      expect(html).toContain('microkernel:copy');
      expect(html).toContain('data-chart="cdf"');
      expect(comparisonOf(single).results).toHaveLength(1);
      expect(comparisonOf(single).results[0].reports).toEqual([single]);
    });
  });
});
