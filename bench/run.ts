/**
 * `npm run bench`: host-measured throughput of the monolith against each
 * microkernel transport, on specweb96 with 64 clients and on whole-1-MiB-file
 * requests. A benchmark, not a test: it asserts nothing, it measures and writes
 * the results to bench/results/bench-<time>.json and a table on stdout.
 *
 * Rounds are interleaved (A B C D A B C D ...) after a warm-up, and each label's
 * throughput is divided by the monolith's of the same round; the table shows
 * medians and min–max of those paired ratios, requests per CPU-second (all
 * threads: the microkernel can use both cores) and each label's busy time per
 * request summed over its domains (where the time goes).
 *
 *   npm run bench -- [--rounds N] [--warmup N] [--quick] [--labels a,b,...] [--only specweb96|large-1mib]
 *   npm run bench -- --spin-sweep 0,10,50,200   ring signalling's --spin-us, interleaved, on specweb96
 *   npm run bench -- --only recovery            the supervisor: recovery time per server and throughput lost
 *   npm run bench -- --profile-cpu [--labels a,b] [--requests N]   a V8 CPU profile of every thread of each label's run, summarised
 *   --requests N sets every scenario's request count (a smoke run); --out DIR writes
 *   the results there instead of bench/results.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { compare, type Comparison } from '../dist/compare.js';
import { run, type RunReport } from '../dist/run.js';
import { median, spread } from '../dist/metrics/stats.js';
import { profileCpu } from './profile.js';

const here = fileURLToPath(new URL('.', import.meta.url));

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
    labels: { type: 'string', default: 'monolithic,microkernel:copy,microkernel:transfer,microkernel:shared' },
    only: { type: 'string' },
    'spin-sweep': { type: 'string' },
    'profile-cpu': { type: 'boolean', default: false },
    requests: { type: 'string' },
    out: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const warmupRounds = Number(args.warmup);
/** Every scenario's request count, if --requests is given. */
const requestsOverride = args.requests === undefined ? undefined : Number(args.requests);

/** Sum over the domains of their host-measured busy time per request, µs. */
const busyUs = (r: RunReport) => r.domains.reduce((n, d) => n + (d.busyUsPerRequest ?? 0), 0);

function save(data: object): void {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = args.out ?? `${here}results`;
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/bench-${stamp}.json`;
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...data }, null, 2));
  console.log(`results written to ${args.out ? file : `bench/results/${file.slice(dir.length + 1)}`}`);
}

function newTable(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [], compact: true } });
}

/** The monolith and each label, on specweb96 (64 clients) and 1 MiB files. */
async function throughput(): Promise<void> {
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
  ]
    .filter((s) => !args.only || s.name === args.only)
    .map((s) => ({ ...s, requests: requestsOverride ?? s.requests }));
  const labels = args.labels.split(',');
  const out: { scenario: string; checksum: 'software'; comparison: Comparison }[] = [];
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
        process.stderr.write(`  ${warmup ? 'warm-up' : `round ${round + 1}`}\t${label.padEnd(26)}${Math.round(report.throughput.requestsPerSec)} req/s\n`),
    });
    out.push({ scenario: s.name, checksum: 'software', comparison });
  }
  const t = newTable([
    'scenario',
    'label',
    'req/s\n(host, median)',
    'ratio to monolithic\n(paired median)',
    'ratio min–max',
    'req per CPU-s\n(host, median)',
    'busy µs per request\n(all domains, host)',
    'bytes copied\nper request',
  ]);
  for (const o of out) {
    for (const r of o.comparison.results) {
      t.push([
        o.scenario,
        r.label,
        Math.round(r.requestsPerSec.median),
        r.ratio.median.toFixed(3),
        `${r.ratio.min.toFixed(3)}–${r.ratio.max.toFixed(3)}`,
        Math.round(median(r.reports.map((x) => x.throughput.requestsPerCpuSec))),
        median(r.reports.map(busyUs)).toFixed(1),
        Math.round(r.reports[0].perRequest.bytesCopied),
      ]);
    }
  }
  console.log(t.toString());
  // the full run reports are large; keep the figures and the first report of each label
  const slim = out.map((o) => ({
    ...o,
    comparison: {
      ...o.comparison,
      results: o.comparison.results.map(({ reports, ...r }) => ({
        ...r,
        requestsPerSecRounds: reports.map((x) => x.throughput.requestsPerSec),
        requestsPerCpuSec: spread(reports.map((x) => x.throughput.requestsPerCpuSec)),
        busyUsPerRequest: spread(reports.map(busyUs)),
        firstReport: reports[0],
      })),
    },
  }));
  save({ kind: 'throughput', rounds, warmupRounds, results: slim });
}

/**
 * Ring signalling's spin budget: each value in interleaved rounds against the
 * monolith, on specweb96 with 64 clients. Chooses the default of --spin-us.
 */
async function spinSweep(spins: number[]): Promise<void> {
  const requests = requestsOverride ?? (args.quick ? 5000 : 20_000);
  const common = { workload: 'specweb96', requests, clients: 64 } as const;
  const rows = new Map<number, { rps: number[]; ratio: number[]; busy: number[]; p50: number[] }>();
  for (let r = 0 - warmupRounds; r < rounds; r++) {
    const mono = await run({ ...common, mode: 'monolithic' });
    for (const spinUs of spins) {
      const rep = await run({ ...common, mode: 'microkernel', transport: 'shared', signal: 'ring', spinUs });
      process.stderr.write(`  ${r < 0 ? 'warm-up' : `round ${r + 1}`}\tspin ${spinUs} µs\t${Math.round(rep.throughput.requestsPerSec)} req/s\n`);
      if (r < 0) continue;
      const row = rows.get(spinUs) ?? { rps: [], ratio: [], busy: [], p50: [] };
      row.rps.push(rep.throughput.requestsPerSec);
      row.ratio.push(rep.throughput.requestsPerSec / mono.throughput.requestsPerSec);
      row.busy.push(busyUs(rep));
      row.p50.push(rep.latencyUs?.p50 ?? NaN);
      rows.set(spinUs, row);
    }
  }
  const t = newTable([
    '--spin-us',
    'req/s\n(host, median)',
    'ratio to monolithic\n(paired median, min–max)',
    'busy µs per request\n(all domains, host)',
    'p50 µs\n(host, round trip)',
  ]);
  for (const [spin, row] of rows) {
    const ratio = spread(row.ratio);
    t.push([
      spin,
      Math.round(median(row.rps)),
      `${ratio.median.toFixed(3)} (${ratio.min.toFixed(3)}–${ratio.max.toFixed(3)})`,
      median(row.busy).toFixed(1),
      Math.round(median(row.p50)),
    ]);
  }
  console.log(t.toString());
  save({ kind: 'spin-sweep', rounds, warmupRounds, requests, rows: Object.fromEntries(rows) });
}

/**
 * What a restart costs: on specweb96 under the microkernel, each server is
 * crashed several times a run (far enough apart that the restart intensity is
 * never reached), interleaved with a run without faults. Per server: the
 * host-measured recovery time of every restart (from the fault striking to the
 * first call the new incarnation served), the time it was down, and the
 * throughput of the faulted run against the clean one of the same round.
 */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

async function recovery(): Promise<void> {
  const requests = requestsOverride ?? (args.quick ? 8000 : 20_000);
  const crashes = 4;
  const at = Array.from({ length: crashes }, (_, i) => Math.round(((i + 0.5) * requests) / crashes));
  const common = { mode: 'microkernel', workload: 'specweb96', requests, clients: 64, maxRestarts: 1000, restartWindowMs: 1 } as const;
  const servers = ['disk', 'net', 'app'] as const;
  const rows = new Map(servers.map((s) => [s, { recovery: [] as number[], down: [] as number[], ratio: [] as number[], lostMs: [] as number[], ok: [] as number[] }]));
  for (let r = 0 - warmupRounds; r < rounds; r++) {
    const clean = await run(common);
    for (const server of servers) {
      const rep = await run({ ...common, faults: at.map((n) => `${server}:crash@request=${n}`) });
      const sv = rep.servers[server];
      process.stderr.write(`  ${r < 0 ? 'warm-up' : `round ${r + 1}`}	${server} crashed ${sv.restarts}×	${Math.round(rep.throughput.requestsPerSec)} req/s (clean ${Math.round(clean.throughput.requestsPerSec)})
`);
      if (r < 0) continue;
      const row = rows.get(server)!;
      for (const f of rep.faults) if (f.outcome !== 'restarted') throw new Error(`recovery bench: ${server} was not restarted: ${f.message}`);
      row.recovery.push(...(sv.recoveryMs?.each ?? []));
      row.down.push(sv.downMs / Math.max(1, sv.restarts));
      row.ratio.push(rep.throughput.requestsPerSec / clean.throughput.requestsPerSec);
      // wall time the restarts added, per restart, beyond the clean run's
      row.lostMs.push((rep.elapsedMs - clean.elapsedMs) / Math.max(1, sv.restarts));
      row.ok.push(rep.availability);
    }
  }
  const t = newTable([
    'server',
    'recovery ms\n(host, median)',
    'recovery ms\n(host, p99)',
    'restarts\nmeasured',
    'down ms per restart\n(host, median)',
    'throughput vs clean run\n(paired median, min–max)',
    'wall ms added\nper restart (median)',
    'availability\n(min)',
  ]);
  for (const [server, row] of rows) {
    const ratio = spread(row.ratio);
    t.push([
      server,
      median(row.recovery).toFixed(1),
      quantile(row.recovery, 0.99).toFixed(1),
      row.recovery.length,
      median(row.down).toFixed(1),
      `${ratio.median.toFixed(3)} (${ratio.min.toFixed(3)}–${ratio.max.toFixed(3)})`,
      median(row.lostMs).toFixed(1),
      Math.min(...row.ok).toFixed(4),
    ]);
  }
  console.log(`recovery: ${crashes} crashes per run of ${requests} specweb96 requests, 64 clients, microkernel:copy`);
  console.log(t.toString());
  save({ kind: 'recovery', rounds, warmupRounds, requests, crashesPerRun: crashes, rows: Object.fromEntries(rows) });
}

if (args['profile-cpu']) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  profileCpu(fileURLToPath(new URL('..', import.meta.url)), args.out ?? `${here}results/profile-${stamp}`, args.labels.split(','), requestsOverride ?? 20_000);
} else if (args['spin-sweep']) await spinSweep(args['spin-sweep'].split(',').map(Number));
else if (args.only === 'recovery') await recovery();
else {
  await throughput();
  if (!args.only) await recovery();
}
