/**
 * `npm run bench`: host-measured throughput of the monolith against each
 * microkernel transport, on specweb96 with 64 clients and on whole-1-MiB-file
 * requests. A benchmark, not a test: it asserts nothing, it measures and writes
 * the results to bench/results/<time>.json and a table on stdout.
 *
 * Rounds are interleaved (A B C D A B C D ...) after a warm-up, and each label's
 * throughput is divided by the monolith's of the same round; the table shows
 * medians and min–max of those paired ratios, and requests per CPU-second (all
 * threads: the microkernel can use both cores).
 *
 *   npm run bench -- [--rounds N] [--warmup N] [--quick] [--labels a,b,...] [--only specweb96|large-1mib]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { compare, type Comparison } from '../dist/compare.js';
import { median, spread } from '../dist/metrics/stats.js';

const here = fileURLToPath(new URL('.', import.meta.url));

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
    labels: { type: 'string', default: 'monolithic,microkernel:copy,microkernel:transfer,microkernel:shared' },
    only: { type: 'string' },
  },
});

const scale = args.quick ? 0.25 : 1;
const scenarios = [
  { name: 'specweb96', workload: 'specweb96', requests: 20_000 * scale, clients: 64, cacheBlocks: 4096 },
  {
    name: 'large-1mib',
    workload: `${here}workloads/large-1mib.json`,
    requests: 1500 * scale,
    clients: 16,
    cacheBlocks: 16384, // the whole file set fits: this scenario measures moving bytes, not the disk
  },
].filter((s) => !args.only || s.name === args.only);

const rounds = Number(args.rounds);
const warmupRounds = Number(args.warmup);
const labels = args.labels.split(',');
const out: { scenario: string; checksum: 'software'; comparison: Comparison; requestsPerCpuSec: Record<string, number> }[] = [];

for (const s of scenarios) {
  process.stderr.write(`\n${s.name}: ${s.requests} requests, ${s.clients} clients, ${rounds} rounds after ${warmupRounds} warm-up\n`);
  const comparison = await compare({
    workload: s.workload,
    requests: s.requests,
    clients: s.clients,
    cacheBlocks: s.cacheBlocks,
    labels,
    rounds,
    warmupRounds,
    onRun: ({ label, round, warmup, report }) =>
      process.stderr.write(
        `  ${warmup ? 'warm-up' : `round ${round + 1}`}\t${label.padEnd(22)}${Math.round(report.throughput.requestsPerSec)} req/s\n`,
      ),
  });
  const requestsPerCpuSec = Object.fromEntries(
    comparison.results.map((r) => [r.label, median(r.reports.map((x) => x.throughput.requestsPerCpuSec))]),
  );
  out.push({ scenario: s.name, checksum: 'software', comparison, requestsPerCpuSec });
}

const t = new Table({
  head: [
    'scenario',
    'label',
    'req/s (host, median)',
    'ratio to monolithic\n(paired median)',
    'ratio min–max',
    'req per CPU-s\n(host, median)',
    'bytes copied\nper request',
  ],
  style: { head: [], border: [], compact: true },
});
for (const o of out) {
  for (const r of o.comparison.results) {
    t.push([
      o.scenario,
      r.label,
      Math.round(r.requestsPerSec.median),
      r.ratio.median.toFixed(3),
      `${r.ratio.min.toFixed(3)}–${r.ratio.max.toFixed(3)}`,
      Math.round(o.requestsPerCpuSec[r.label]),
      Math.round(r.reports[0].perRequest.bytesCopied),
    ]);
  }
}
console.log(t.toString());

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const dir = `${here}results`;
mkdirSync(dir, { recursive: true });
const file = `${dir}/bench-${stamp}.json`;
// the full run reports are large; keep the figures and the first report of each label
const slim = out.map((o) => ({
  ...o,
  comparison: {
    ...o.comparison,
    results: o.comparison.results.map(({ reports, ...r }) => ({
      ...r,
      requestsPerSecRounds: reports.map((x) => x.throughput.requestsPerSec),
      cpuPerRequestUs: spread(reports.map((x) => ((x.cpu.userMs + x.cpu.systemMs) * 1000) / x.outcomes.ok)),
      firstReport: reports[0],
    })),
  },
}));
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), rounds, warmupRounds, results: slim }, null, 2));
console.log(`results written to bench/results/${file.slice(dir.length + 1)}`);
