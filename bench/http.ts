/**
 * `npm run bench:http`: real HTTP load (autocannon) against `microlith serve`
 * in each kernel. A benchmark, not a test: it asserts nothing, it measures and
 * writes the results to bench/results/bench-http-<time>.json and a table on
 * stdout.
 *
 * One `serve` process per label is started on a free loopback port and kept
 * up; then rounds are interleaved (A B C A B C ...) after a warm-up, each an
 * autocannon run of --duration-s seconds with --connections keep-alive
 * connections walking the same specweb96 request paths (drawn from the
 * workload's seeded request stream, so every label gets the same mix). Each
 * label's requests/s is divided by the monolith's of the same round; the
 * table shows medians and min–max of those paired ratios, and the servers'
 * own counted figures per request, read from each one's report after SIGTERM.
 *
 *   npm run bench:http -- [--rounds N] [--warmup N] [--duration-s S] [--connections C]
 *                         [--labels monolithic,microkernel:copy,microkernel:shared] [--out DIR]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Table from 'cli-table3';
import { median, spread } from '../dist/metrics/stats.js';
import { PACKAGE_ROOT } from '../dist/paths.js';
import { loadWorkload } from '../dist/workload/load.js';
import { RequestStream } from '../dist/workload/generate.js';
import type { ServeReport } from '../dist/serve.js';

// from the package root, not from this module: the build bundles it into bench/build/
const root = `${PACKAGE_ROOT}/`;
const here = `${root}bench/`;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    'duration-s': { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    labels: { type: 'string', default: 'monolithic,microkernel:copy,microkernel:shared' },
    paths: { type: 'string', default: '2000' },
    out: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const warmup = Number(args.warmup);
const durationS = Number(args['duration-s']);
const connections = Number(args.connections);
const labels = args.labels.split(',').map((l) => l.trim());
for (const [name, v] of Object.entries({ rounds, warmup, durationS, connections })) {
  if (!Number.isInteger(v) || v < (name === 'warmup' ? 0 : 1)) throw new Error(`--${name}: a whole number, got ${v}`);
}

/** `serve` flags of a label: monolithic, or microkernel[:TRANSPORT[:SIGNAL]]. */
function flagsOf(label: string): string[] {
  const [mode, transport, signal] = label.split(':');
  if (mode === 'monolithic' && !transport) return ['--mode', 'monolithic'];
  if (mode !== 'microkernel') throw new Error(`label ${label}: monolithic or microkernel[:TRANSPORT[:SIGNAL]]`);
  return ['--mode', 'microkernel', ...(transport ? ['--transport', transport] : []), ...(signal ? ['--signal', signal] : [])];
}

interface Server {
  label: string;
  child: ChildProcess;
  url: string;
  report: Promise<ServeReport>;
}

/** Start `microlith serve` for `label` on a free port; resolves once it listens. */
function startServer(label: string): Promise<Server> {
  const child = spawn(process.execPath, ['dist/cli.js', 'serve', '--port', '0', '--json', '--quiet', '--max-connections', String(Math.max(256, connections * 2)), ...flagsOf(label)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  const report = new Promise<ServeReport>((res, rej) =>
    child.on('close', (code) => {
      try {
        res(JSON.parse(stdout) as ServeReport);
      } catch {
        rej(new Error(`serve ${label} exited ${code}: ${stderr.trim()}`));
      }
    }),
  );
  return new Promise((res, rej) => {
    const guard = setTimeout(() => rej(new Error(`serve ${label} did not listen within 30 s: ${stderr}`)), 30_000);
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = /at (http:\/\/\S+\/) /.exec(stderr);
      if (m) {
        clearTimeout(guard);
        res({ label, child, url: m[1], report });
      }
    });
    child.on('close', () => rej(new Error(`serve ${label} ended before it listened: ${stderr.trim()}`)));
  });
}

/** The same request paths for every label: specweb96's seeded request stream. */
function requestPaths(n: number): string[] {
  const stream = new RequestStream(loadWorkload('specweb96'));
  return Array.from({ length: n }, () => {
    const line = stream.next().line; // GET /path HTTP/1.0
    return line.split(' ')[1];
  });
}

interface Measured {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, paths: string[], seconds: number): Promise<Measured> {
  const r = await autocannon({
    url,
    connections,
    pipelining: 1,
    duration: seconds,
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
  return { requestsPerSec: r.requests.total / seconds, p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

async function main(): Promise<void> {
  const paths = requestPaths(Number(args.paths));
  console.log(`bench:http: autocannon, ${connections} keep-alive connections, ${durationS} s per run, specweb96 paths; ${warmup} warm-up + ${rounds} interleaved rounds of ${labels.join(', ')}`);
  const servers: Server[] = [];
  try {
    for (const l of labels) servers.push(await startServer(l));
    const runs: Record<string, Measured[]> = Object.fromEntries(labels.map((l) => [l, []]));
    for (let round = -warmup; round < rounds; round++) {
      for (const s of servers) {
        const m = await load(s.url, paths, durationS);
        const tag = round < 0 ? 'warm-up' : `round ${round + 1}/${rounds}`;
        console.log(`  ${tag.padEnd(11)} ${s.label.padEnd(22)} ${Math.round(m.requestsPerSec).toLocaleString('en-US').padStart(8)} req/s (host-measured)  p99 ${m.p99Ms} ms${m.non2xx || m.errors ? `  non-2xx ${m.non2xx}, errors ${m.errors}` : ''}`);
        if (round >= 0) runs[s.label].push(m);
      }
    }
    for (const s of servers) s.child.kill('SIGTERM');
    const reports = await Promise.all(servers.map((s) => s.report));
    const base = runs[labels[0]];
    const results = labels.map((label, i) => {
      const ms = runs[label];
      const ratios = ms.map((m, r) => m.requestsPerSec / base[r].requestsPerSec);
      const rep = reports[i];
      return {
        label,
        requestsPerSec: spread(ms.map((m) => m.requestsPerSec)),
        ratio: spread(ratios),
        latencyMs: { p50: median(ms.map((m) => m.p50Ms)), p99: median(ms.map((m) => m.p99Ms)) },
        non2xx: ms.reduce((n, m) => n + m.non2xx, 0),
        errors: ms.reduce((n, m) => n + m.errors, 0),
        served: rep.workload.requests,
        status: rep.status,
        perRequest: rep.perRequest,
        busyUsPerRequest: rep.domains.reduce((n, d) => n + (d.busyUsPerRequest ?? 0), 0),
        runs: ms,
      };
    });
    const t = new Table({
      head: ['label', 'req/s (median)', 'ratio (median, min–max)', 'p50 ms', 'p99 ms', 'copied B/req', 'IPC msgs/req', 'busy µs/req'],
      style: { head: [], border: [], compact: true },
    });
    for (const r of results) {
      t.push([
        r.label,
        Math.round(r.requestsPerSec.median).toLocaleString('en-US'),
        `${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})`,
        r.latencyMs.p50,
        r.latencyMs.p99,
        Math.round(r.perRequest.bytesCopied).toLocaleString('en-US'),
        r.perRequest.ipcMessages.toFixed(1),
        Math.round(r.busyUsPerRequest).toLocaleString('en-US'),
      ]);
    }
    console.log('\nhost-measured under autocannon (ratios paired by round against the first label); counted figures per request from each server\'s report');
    console.log(t.toString());
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const dir = args.out ?? `${here}results`;
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/bench-http-${stamp}.json`;
    writeFileSync(
      file,
      JSON.stringify({ date: new Date().toISOString(), kind: 'bench-http', options: { rounds, warmup, durationS, connections, labels, paths: paths.length }, env: { node: process.version }, results }, null, 2),
    );
    console.log(`results written to ${args.out ? file : `bench/results/${file.slice(dir.length + 1)}`}`);
  } finally {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  }
}

await main();
