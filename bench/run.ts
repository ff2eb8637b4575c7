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
 *   npm run bench -- --only scale [--quick]     throughput, cost per request and peak RSS as requests and clients grow (bench/scale.ts)
 *   npm run bench -- --check [FILE] [--min-noise 0.05]   the throughput comparison against a kept result (bench/check.ts);
 *                                               exit 1 on a regression, 2 on a reference that does not match
 *   --requests N sets every scenario's request count (a smoke run); --out DIR writes
 *   the results there instead of bench/results.
 *
 * Beside the comparison, each round also times the monolith's limit (bench/limit.ts):
 * the same responses checksummed and hashed in one tight loop in this thread, and
 * the monolith's throughput as a fraction of that loop's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { compare, type Comparison } from '../dist/compare.js';
import { run, type RunReport } from '../dist/run.js';
import { median, spread } from '../dist/metrics/stats.js';
import { domainsSum } from '../dist/report/export.js';
import { PACKAGE_ROOT } from '../dist/paths.js';
import { profileCpu } from './profile.js';
import { buildLimitInput, limitLoop, type LimitResult } from './limit.js';
import { defaultReference, MIN_NOISE, mismatch, ratiosOf, readReference, ReferenceError, verdictRows, verdicts, type ScenarioRatios } from './check.js';
import { CELL_HANG_TIMEOUT_MS, costGrowth, RSS_FLAG_MB, runCell, SCALE_KERNELS, scaleCells, type ScaleRow } from './scale.js';

// from the package root, not from this module: the build bundles it into bench/build/
const root = `${PACKAGE_ROOT}/`;
const here = `${root}bench/`;

/** Bad usage or a reference that cannot be used: one line on stderr, exit 2. */
function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const OPTIONS = {
  rounds: { type: 'string', default: '5' },
  warmup: { type: 'string', default: '1' },
  quick: { type: 'boolean', default: false },
  labels: { type: 'string', default: 'monolithic,microkernel:copy,microkernel:transfer,microkernel:shared' },
  only: { type: 'string' },
  'spin-sweep': { type: 'string' },
  'profile-cpu': { type: 'boolean', default: false },
  requests: { type: 'string' },
  out: { type: 'string' },
  check: { type: 'boolean', default: false },
  'min-noise': { type: 'string' },
} as const;

function parse() {
  try {
    return parseArgs({ options: OPTIONS, allowPositionals: true });
  } catch (e) {
    return usage((e as Error).message);
  }
}
const { values: args, positionals } = parse();
if (positionals.length > (args.check ? 1 : 0)) usage(`unexpected argument '${positionals[args.check ? 1 : 0]}' (only --check takes a file)`);
const ONLY = ['specweb96', 'large-1mib', 'recovery', 'scale'];
if (args.only !== undefined && !ONLY.includes(args.only)) usage(`--only ${args.only}: expected one of ${ONLY.join(', ')}`);
if (args.check && (args.only === 'recovery' || args.only === 'scale' || args['spin-sweep'] || args['profile-cpu'])) {
  usage('--check compares the throughput comparison (specweb96, large-1mib) only');
}
const minNoise = args['min-noise'] === undefined ? MIN_NOISE : Number(args['min-noise']);
if (!(minNoise >= 0)) usage(`--min-noise ${args['min-noise']}: expected a fraction >= 0 (0.05 is 5%)`);
const rounds = Number(args.rounds);
const warmupRounds = Number(args.warmup);
/** Every scenario's request count, if --requests is given. */
const requestsOverride = args.requests === undefined ? undefined : Number(args.requests);

/** Sum over the domains of their host-measured busy time per request, µs. */
const busyUs = (r: RunReport) => r.domains.reduce((n, d) => n + (d.busyUsPerRequest ?? 0), 0);
/**
 * The domains' threads' time on a core per request, summed (host-measured, the
 * scheduler's count): what busyUs is less the time a busy thread waited for a
 * core, which an event loop's utilisation counts as busy. NaN where unknown.
 */
const onCpuUs = (r: RunReport) => domainsSum(r, (d) => d.onCpuUsPerRequest) ?? NaN;
/** The domains' threads' time runnable but waiting for a core per request, summed (host-measured). */
const runQueueUs = (r: RunReport) => domainsSum(r, (d) => d.runQueueUsPerRequest) ?? NaN;
/**
 * Cores the run kept busy: the process's CPU time (every thread: the clients, the
 * kernel's domains, V8's and libuv's helpers) over the run's wall time, as its
 * requests per second over its requests per CPU-second. Below the machine's cores
 * (2 here) by what the threads spent waiting (for a wake-up, a peer, a core).
 */
const coresBusy = (r: RunReport) => (r.throughput.requestsPerCpuSec > 0 ? r.throughput.requestsPerSec / r.throughput.requestsPerCpuSec : 0);

function save(data: object): void {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = args.out ?? `${here}results`;
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/bench-${stamp}.json`;
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...data }, null, 2));
  console.log(`results written to ${args.out ? file : `bench/results/${file.slice(dir.length + 1)}`}`);
}

/** A figure to one decimal, or a dash where it is unknown. */
const orDash = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');

function newTable(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [], compact: true } });
}

/** A reference to compare the throughput comparison with (`--check`): the file as shown, and its ratios. */
interface Reference {
  shown: string;
  ratios: ScenarioRatios[];
}

/** The spread of `xs`, or null without any. */
const spreadOrNull = (xs: number[]) => (xs.length ? spread(xs) : null);

/**
 * The monolith and each label, on specweb96 (64 clients) and 1 MiB files; and
 * each round, the monolith's limit. With `check`: the paired ratios against
 * the reference's; exit 1 on a regression.
 */
async function throughput(check?: Reference): Promise<void> {
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
  if (check) {
    const why = mismatch(check.ratios, scenarios.map((s) => ({ scenario: s.name, requests: s.requests, clients: s.clients })), check.shown);
    if (why) usage(why);
  }
  const out: { scenario: string; checksum: 'software'; comparison: Comparison; limits: LimitResult[] }[] = [];
  for (const s of scenarios) {
    process.stderr.write(`\n${s.name}: ${s.requests} requests, ${s.clients} clients, ${rounds} rounds after ${warmupRounds} warm-up\n`);
    // the limit's responses are built once; the loop is timed once a round, after the round's last label
    const limitInput = buildLimitInput({ workload: s.workload, requests: s.requests, clients: s.clients, cacheBlocks: s.cacheBlocks });
    const limits: LimitResult[] = [];
    let runs = 0;
    const comparison = await compare({
      workload: s.workload,
      requests: s.requests,
      clients: s.clients,
      cacheBlocks: s.cacheBlocks,
      labels,
      rounds,
      warmupRounds,
      onRun: ({ label, round, warmup, report }) => {
        const when = warmup ? 'warm-up' : `round ${round + 1}`;
        process.stderr.write(`  ${when}\t${label.padEnd(26)}${Math.round(report.throughput.requestsPerSec)} req/s\n`);
        if (++runs % labels.length !== 0) return;
        const limit = limitLoop(limitInput);
        process.stderr.write(`  ${when}\t${'limit (checksum + hash)'.padEnd(26)}${Math.round(limit.requestsPerSec)} req/s\n`);
        if (!warmup) limits.push(limit);
      },
    });
    out.push({ scenario: s.name, checksum: 'software', comparison, limits });
  }
  const t = newTable([
    'scenario',
    'label',
    'req/s\n(host, median)',
    'ratio to monolithic\n(paired median,\nmin–max)',
    'ratio, 2nd half\nof each run (paired\nmedian, min–max)',
    'req per CPU-s\n(host, median)',
    'cores busy\n(host, median)',
    'busy µs per request\n(all domains, host)',
    'on-CPU µs per\nrequest (all domains,\nhost, scheduler)',
    'waiting for a core,\nµs per request (all\ndomains, host)',
    'bytes copied\nper request',
  ]);
  for (const o of out) {
    for (const r of o.comparison.results) {
      const half = r.secondHalfRatio;
      t.push([
        o.scenario,
        r.label,
        Math.round(r.requestsPerSec.median),
        `${r.ratio.median.toFixed(3)} (${r.ratio.min.toFixed(3)}–${r.ratio.max.toFixed(3)})`,
        half ? `${half.median.toFixed(3)} (${half.min.toFixed(3)}–${half.max.toFixed(3)})` : '–',
        Math.round(median(r.reports.map((x) => x.throughput.requestsPerCpuSec))),
        median(r.reports.map(coresBusy)).toFixed(2),
        median(r.reports.map(busyUs)).toFixed(1),
        orDash(median(r.reports.map(onCpuUs).filter(Number.isFinite))),
        orDash(median(r.reports.map(runQueueUs).filter(Number.isFinite))),
        Math.round(r.reports[0].perRequest.bytesCopied),
      ]);
    }
  }
  console.log(t.toString());

  // the monolith's limit: its throughput as a fraction of the loop's, paired round by round
  const limitRows = out.map((o) => {
    const mono = o.comparison.results.find((r) => r.mode === 'monolithic');
    const monoRps = mono?.reports.map((x) => x.throughput.requestsPerSec) ?? [];
    const limitRps = o.limits.map((l) => l.requestsPerSec);
    const monoCpu = mono?.reports.map((x) => x.throughput.requestsPerCpuSec) ?? [];
    const monoDigests = new Set(mono?.reports.filter((x) => x.status === 'ok').map((x) => x.digest) ?? []);
    return {
      scenario: o.scenario,
      requestsPerSec: spreadOrNull(limitRps),
      requestsPerCpuSec: spreadOrNull(o.limits.map((l) => l.requestsPerCpuSec)),
      monolithRequestsPerSec: spreadOrNull(monoRps),
      monolithFraction: spreadOrNull(monoRps.slice(0, limitRps.length).map((x, i) => x / limitRps[i])),
      /** The same by CPU time: the monolith's requests per CPU-second (all its threads) over the loop's. */
      monolithCpuFraction: spreadOrNull(monoCpu.slice(0, o.limits.length).map((x, i) => x / o.limits[i].requestsPerCpuSec)),
      /** Payload bytes per request (counted): each is checksummed (unless offloaded) and hashed. */
      bytesPerRequest: o.limits[0] ? o.limits[0].bytesHashed / o.limits[0].requests : NaN,
      digest: o.limits[0]?.digest ?? null,
      digestIsMonolith: mono ? (o.limits[0] ? monoDigests.size === 1 && monoDigests.has(o.limits[0].digest) : null) : null,
      rounds: o.limits,
    };
  });
  const lt = newTable([
    'scenario',
    'limit req/s\n(host, median,\nmin–max)',
    'limit MiB/s\n(host, median)',
    'limit req per CPU-s\n(host, median)',
    'monolithic req/s\n(host, median)',
    'monolithic / limit\n(paired median,\nmin–max)',
    'monolithic / limit,\nper CPU-s (host,\npaired median)',
    'payload bytes per\nrequest (counted)',
    'digest equals\nthe monolith\'s',
  ]);
  const f3 = (x: number) => x.toFixed(3);
  for (const l of limitRows) {
    lt.push([
      l.scenario,
      l.requestsPerSec ? `${Math.round(l.requestsPerSec.median)} (${Math.round(l.requestsPerSec.min)}–${Math.round(l.requestsPerSec.max)})` : '–',
      l.requestsPerSec ? ((l.requestsPerSec.median * l.bytesPerRequest) / 2 ** 20).toFixed(0) : '–',
      l.requestsPerCpuSec ? Math.round(l.requestsPerCpuSec.median) : '–',
      l.monolithRequestsPerSec ? Math.round(l.monolithRequestsPerSec.median) : '–',
      l.monolithFraction ? `${f3(l.monolithFraction.median)} (${f3(l.monolithFraction.min)}–${f3(l.monolithFraction.max)})` : '–',
      l.monolithCpuFraction ? f3(l.monolithCpuFraction.median) : '–',
      Math.round(l.bytesPerRequest),
      l.digestIsMonolith === null ? '–' : l.digestIsMonolith ? 'yes' : 'NO',
    ]);
  }
  console.log("the monolith's limit: each round, the same responses checksummed (RFC 1071) and hashed (CRC-32) in one loop in this thread");
  console.log(lt.toString());

  // the full run reports are large; keep the figures and the first report of each label
  const slim = out.map(({ limits: _limits, ...o }, i) => ({
    ...o,
    limit: limitRows[i],
    comparison: {
      ...o.comparison,
      results: o.comparison.results.map(({ reports, ...r }) => ({
        ...r,
        requestsPerSecRounds: reports.map((x) => x.throughput.requestsPerSec),
        requestsPerCpuSec: spread(reports.map((x) => x.throughput.requestsPerCpuSec)),
        busyUsPerRequest: spread(reports.map(busyUs)),
        onCpuUsPerRequest: spreadOrNull(reports.map(onCpuUs).filter(Number.isFinite)),
        runQueueUsPerRequest: spreadOrNull(reports.map(runQueueUs).filter(Number.isFinite)),
        coresBusy: spread(reports.map(coresBusy)),
        firstReport: reports[0],
      })),
    },
  }));
  const data = {
    kind: 'throughput',
    rounds,
    warmupRounds,
    options: { labels, quick: args.quick, requests: requestsOverride ?? null, only: args.only ?? null },
    results: slim,
  };
  if (!check) return save(data);

  const vs = verdicts(check.ratios, ratiosOf(data, 'this run'), minNoise);
  const ct = newTable(['scenario', 'label', 'reference ratio\n(median, min–max)', 'new ratio\n(median, min–max)', 'change\n(of the reference)', 'allowed noise\n(of the reference)', 'verdict']);
  for (const row of verdictRows(vs)) ct.push(row);
  const regressions = vs.filter((v) => v.verdict === 'regression');
  console.log(`against ${check.shown}: paired ratios to the monolith (host-measured), allowed noise = max(either run's (max − min) / 2, ${(minNoise * 100).toFixed(0)}%)`);
  console.log(ct.toString());
  console.log(regressions.length ? `${regressions.length} regression${regressions.length === 1 ? '' : 's'}: ${regressions.map((v) => `${v.scenario} ${v.label}`).join(', ')}` : 'no regression');
  save({ ...data, check: { reference: check.shown, minNoise, verdicts: vs, regressions: regressions.length } });
  if (regressions.length) process.exitCode = 1;
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

/**
 * The scaling table: each cell in a fresh process (bench/scale.ts), the two
 * kernels alternating; flags cells over RSS_FLAG_MB and says whether the cost
 * per request stays flat as the run grows.
 */
async function scaleTable(): Promise<void> {
  const cells = scaleCells(args.quick, requestsOverride);
  process.stderr.write(`\nscale: ${cells.length} cells on specweb96, each in a process of its own\n`);
  const rows: ScaleRow[] = [];
  for (const c of cells) {
    const row = await runCell(c);
    process.stderr.write(`  ${c.kernel.padEnd(20)}${String(c.requests).padStart(8)} requests ${String(c.clients).padStart(5)} clients\t${Math.round(row.requestsPerSec)} req/s, ${row.busyUsPerRequest.toFixed(1)} µs/request, ${row.peakRssMb.toFixed(0)} MB\n`);
    rows.push(row);
  }
  const t = newTable([
    'kernel',
    'series',
    'requests',
    'clients',
    'req/s\n(host)',
    'busy µs per request\n(all domains, host)',
    'peak RSS MB\n(host, its process)',
    'RSS MB before\nthe run (host)',
    'flag',
  ]);
  // per kernel, the requests series then the clients series; the cell both share is in each
  const ordered = SCALE_KERNELS.flatMap((kernel) =>
    (['requests', 'clients'] as const).flatMap((series) =>
      rows
        .filter((r) => r.kernel === kernel && r.series.includes(series))
        .sort((a, b) => (series === 'requests' ? a.requests - b.requests : a.clients - b.clients))
        .map((r) => ({ ...r, shown: series })),
    ),
  );
  for (const r of ordered) {
    const flags = [r.peakRssMb > RSS_FLAG_MB ? `over ${RSS_FLAG_MB} MB` : '', r.status === 'ok' ? '' : `${r.status}: ${r.problems[0] ?? ''}`].filter(Boolean);
    t.push([r.kernel, r.shown === 'requests' ? 'requests grow' : 'clients grow', r.requests, r.clients, Math.round(r.requestsPerSec), r.busyUsPerRequest.toFixed(1), r.peakRssMb.toFixed(0), r.rssBeforeMb.toFixed(0), flags.join('; ')]);
  }
  console.log(`scale: specweb96; requests grow with 64 clients, clients grow at a fixed request count; each cell in a fresh process, hung after ${CELL_HANG_TIMEOUT_MS / 1000} s without a heartbeat`);
  console.log(t.toString());
  const growth = costGrowth(rows);
  for (const g of growth) {
    const step = g.previous === g.from ? '' : `; at ${g.to} / at ${g.previous}: ${g.ratioToPrevious.toFixed(2)}`;
    console.log(`${g.kernel}: busy µs per request at ${g.to} requests / at ${g.from}: ${g.ratio.toFixed(2)} (${g.flat ? 'flat, within ±15%' : g.ratio > 1 ? 'grows' : 'falls'})${step}`);
  }
  const over = rows.filter((r) => r.peakRssMb > RSS_FLAG_MB);
  console.log(over.length ? `over ${RSS_FLAG_MB} MB peak RSS: ${over.map((r) => `${r.kernel} ${r.requests}/${r.clients}`).join(', ')}` : `no cell over ${RSS_FLAG_MB} MB peak RSS`);
  save({ kind: 'scale', quick: args.quick, requests: requestsOverride ?? null, rssFlagMb: RSS_FLAG_MB, rows, costGrowth: growth });
}

/** The reference `--check` compares with: FILE, or the default (bench/check.ts `defaultReference`). */
function reference(): Reference {
  try {
    const file = positionals[0] ?? defaultReference(`${here}results`, root);
    const shown = file.startsWith(root) ? file.slice(root.length) : file;
    return { shown, ratios: readReference(file, shown) };
  } catch (e) {
    if (e instanceof ReferenceError) usage(e.message);
    throw e;
  }
}

if (args['profile-cpu']) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  profileCpu(root, args.out ?? `${here}results/profile-${stamp}`, args.labels.split(','), requestsOverride ?? 20_000);
} else if (args['spin-sweep']) await spinSweep(args['spin-sweep'].split(',').map(Number));
else if (args.only === 'recovery') await recovery();
else if (args.only === 'scale') await scaleTable();
else if (args.check) await throughput(reference());
else {
  await throughput();
  if (!args.only) await recovery();
}
