#!/usr/bin/env node
/**
 * The command line: argv -> options -> run/compare -> printing. The only module
 * that knows about argv, the terminal and exit codes (0 done, 1 the run failed,
 * 2 bad usage or bad input).
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ConfigError, DEFAULT_KERNEL_CONFIG, MODES, SIGNALS, TRANSPORTS, type Mode, type Signal, type Transport } from './config.js';
import { compare, DEFAULT_LABELS, LabelError } from './compare.js';
import { SERVER_NAMES, type ServerName } from './protocol.js';
import { formatCheck, formatComparison, formatIpcBench, formatProfile, formatRun } from './report/text.js';
import { benchIpc } from './microkernel/bench-ipc.js';
import os from 'node:os';
import { run, type RunOptions } from './run.js';
import type { FaultKind, FaultPlan } from './servers/server.js';
import { loadWorkload, shippedWorkloads, WorkloadError } from './workload/load.js';
import { DEFAULT_PROFILE, loadProfile, PROFILE_DIR, shippedProfiles } from './costmodel/profile.js';
import { priceRoundTrip } from './costmodel/price.js';
import { calibrate, checkModel } from './costmodel/calibrate.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A usage or input problem: one line on stderr, exit code 2. */
class UsageError extends Error {}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * "disk@1000" -> crash the disk server at its 1000th message; "disk@1000:hang"
 * -> make it hang there; "disk@1000:lose" -> the disk acknowledges its first
 * write from message 1000 on without putting it on the image.
 */
function parseFault(spec: string | undefined): FaultPlan | null {
  if (spec === undefined) return null;
  const m = /^([a-z]+)@([1-9][0-9]{0,14})(?::(crash|hang|lose))?$/.exec(spec);
  if (!m || !SERVER_NAMES.includes(m[1] as ServerName)) {
    throw new UsageError(
      `--fault '${spec}': expected SERVER@N[:crash|:hang|:lose] with SERVER one of ${SERVER_NAMES.join(', ')} and N >= 1`,
    );
  }
  if (m[3] === 'lose' && m[1] !== 'disk') throw new UsageError(`--fault '${spec}': only the disk can lose a write (disk@N:lose)`);
  return { server: m[1] as ServerName, atMessage: Number(m[2]), kind: (m[3] ?? 'crash') as FaultKind };
}

function positiveInt(name: string, v: number | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new UsageError(`--${name} must be an integer from 1 to ${max}, got ${v}`);
  return v;
}

/** `text` wrapped at `width` columns, the first line indented by `first`, the rest by `rest`. */
function wrapText(text: string, width: number, first: string, rest = first): string {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const indent = lines.length === 0 ? first : rest;
    if (line.length > indent.length && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest + word;
    } else line += (line.length > indent.length ? ' ' : '') + word;
  }
  lines.push(line);
  return lines.join('\n');
}

function nonNegative(name: string, v: number, max: number): number {
  if (!Number.isFinite(v) || v < 0 || v > max) throw new UsageError(`--${name} must be a number from 0 to ${max}, got ${v}`);
  return v;
}

/** Flags shared by run and compare. */
function workloadFlags<T>(y: Argv<T>) {
  return y
    .option('workload', { alias: 'w', type: 'string', default: 'specweb96', describe: 'shipped workload name or path to a .json file' })
    .option('requests', { alias: 'n', type: 'number', describe: 'requests to send (default: the workload\'s)' })
    .option('clients', { alias: 'c', type: 'number', describe: 'closed-loop clients (default: the workload\'s)' })
    .option('seed', { alias: 's', type: 'string', describe: 'seed for files and requests (default: the workload\'s)' })
    .option('rate', { type: 'number', describe: 'open loop: Poisson arrivals at this many requests/s (latency counts from each scheduled arrival)' })
    .option('max-in-flight', { type: 'number', describe: 'open loop: most requests outstanding at once (default 4096)' })
    .option('think-time-ms', { type: 'number', describe: 'closed loop: each client waits this long after a reply' })
    .option('duration-ms', { type: 'number', describe: 'stop sending new requests after this long (--requests becomes an upper bound)' })
    .option('cache-blocks', { type: 'number', describe: 'disk buffer cache size in 4 KiB blocks', default: 4096 })
    .option('mtu', { type: 'number', describe: 'frame size in bytes, headers included', default: 1500 })
    .option('checksum-offload', { type: 'boolean', default: false, describe: 'the NIC computes the Internet checksum' })
    .option('call-timeout-ms', { type: 'number', default: 10_000, describe: 'deadline of every cross-domain call' })
    .option('spin-us', { type: 'number', default: DEFAULT_KERNEL_CONFIG.spinUs, describe: 'ring signalling: µs a domain polls after its last message before it sleeps (see README)' })
    .option('fault', { type: 'string', describe: 'inject a fault: SERVER@N crashes SERVER at its Nth message, SERVER@N:hang makes it hang there, disk@N:lose acknowledges its first write from there on without writing it' })
    .option('hang-timeout-ms', { type: 'number', default: DEFAULT_KERNEL_CONFIG.hangTimeoutMs, describe: 'a domain silent to heartbeats this long is hung' })
    .option('profile', { type: 'string', default: DEFAULT_PROFILE, describe: `cost profile that prices the counted events (modelled figures): ${shippedProfiles().join(', ')}, or a .json file` })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON on stdout (text goes to stderr)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress or summary text' });
}

type WorkloadArgs = {
  workload: string;
  requests?: number;
  clients?: number;
  seed?: string;
  rate?: number;
  'max-in-flight'?: number;
  'think-time-ms'?: number;
  'duration-ms'?: number;
  'cache-blocks': number;
  mtu: number;
  'checksum-offload': boolean;
  'call-timeout-ms': number;
  'spin-us': number;
  'hang-timeout-ms': number;
  fault?: string;
  profile: string;
};

/** --rate (open loop) or --think-time-ms (closed loop) -> the arrival model, if either was given. */
function arrivalOf(a: WorkloadArgs): RunOptions['arrival'] {
  if (a.rate !== undefined) {
    if (a['think-time-ms'] !== undefined) throw new UsageError('--rate (open loop) and --think-time-ms (closed loop) do not go together');
    if (!Number.isFinite(a.rate) || a.rate <= 0 || a.rate > 10_000_000) throw new UsageError(`--rate must be a number from above 0 to 10000000, got ${a.rate}`);
    return { kind: 'open', ratePerSec: a.rate, maxInFlight: positiveInt('max-in-flight', a['max-in-flight'], 1_000_000) ?? 4096 };
  }
  if (a['max-in-flight'] !== undefined) throw new UsageError('--max-in-flight goes with --rate (open loop)');
  if (a['think-time-ms'] !== undefined) return { kind: 'closed', thinkTimeMs: nonNegative('think-time-ms', a['think-time-ms'], 60_000) };
  return undefined;
}

function runOptions(a: WorkloadArgs): Omit<RunOptions, 'mode'> {
  const workload = loadWorkload(a.workload); // fail early, with the file's own message
  const profile = loadProfile(a.profile);
  const asNumber = a.seed !== undefined && /^-?\d{1,15}$/.test(a.seed);
  const seed = a.seed === undefined ? undefined : asNumber ? Number(a.seed) : a.seed;
  return {
    workload,
    profile,
    arrival: arrivalOf(a),
    durationMs: positiveInt('duration-ms', a['duration-ms'], 86_400_000),
    requests: positiveInt('requests', a.requests, 10_000_000),
    clients: positiveInt('clients', a.clients, 4096),
    seed,
    cacheBlocks: positiveInt('cache-blocks', a['cache-blocks'], 1 << 24),
    mtu: positiveInt('mtu', a.mtu, 65535),
    checksumOffload: a['checksum-offload'],
    callTimeoutMs: positiveInt('call-timeout-ms', a['call-timeout-ms'], 3_600_000),
    spinUs: nonNegative('spin-us', a['spin-us'], 1_000_000),
    hangTimeoutMs: positiveInt('hang-timeout-ms', a['hang-timeout-ms'], 3_600_000),
    fault: parseFault(a.fault),
  };
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  await yargs(argv)
    .scriptName('microlith')
    .usage('$0 <command> [options]\n\nThe same disk, net and app servers under a monolithic and a microkernel kernel.')
    .command(
      'run',
      'run a workload under one kernel',
      (y) =>
        workloadFlags(y)
          .option('mode', { alias: 'm', choices: MODES, default: 'monolithic' as Mode, describe: 'which kernel' })
          .option('transport', { alias: 't', choices: TRANSPORTS, default: 'copy' as Transport, describe: 'how payloads cross domains (microkernel)' })
          .option('signal', { choices: SIGNALS, default: 'message' as Signal, describe: 'how a domain learns a message waits (microkernel): a port event per message, per batch, or shared-memory rings it polls' }),
      async (a) => {
        const opts = runOptions(a);
        if (!a.quiet) err(`running ${opts.workload && typeof opts.workload === 'object' ? opts.workload.name : a.workload} under the ${a.mode} kernel...`);
        const report = await run({ ...opts, mode: a.mode, transport: a.transport, signal: a.signal });
        if (a.json) out(JSON.stringify(report, null, 2));
        if (!a.quiet) (a.json ? err : out)(formatRun(report));
        code = report.status === 'ok' ? 0 : 1;
      },
    )
    .command(
      'compare',
      'run several kernels on the same workload and seed, interleaved, and compare',
      (y) =>
        workloadFlags(y)
          .option('modes', { type: 'string', default: DEFAULT_LABELS.join(','), describe: 'comma-separated labels; the first is the baseline' })
          .option('rounds', { alias: 'r', type: 'number', default: 3, describe: 'measured rounds per label' })
          .option('warmup', { type: 'number', default: 1, describe: 'unmeasured rounds per label first' }),
      async (a) => {
        const opts = runOptions(a);
        const rounds = positiveInt('rounds', a.rounds, 1000)!;
        if (!Number.isInteger(a.warmup) || a.warmup < 0) throw new UsageError(`--warmup must be an integer >= 0, got ${a.warmup}`);
        const labels = a.modes.split(',').map((s) => s.trim()).filter(Boolean);
        const result = await compare({
          ...opts,
          labels,
          rounds,
          warmupRounds: a.warmup,
          onRun: ({ label, round, warmup, report }) => {
            if (a.quiet) return;
            const tag = warmup ? 'warm-up' : `round ${round + 1}/${rounds}`;
            err(`  ${tag.padEnd(11)} ${label.padEnd(18)} ${Math.round(report.throughput.requestsPerSec)} req/s (host-measured)${report.status === 'ok' ? '' : ' FAILED'}`);
          },
        });
        if (a.json) out(JSON.stringify(result, null, 2));
        if (!a.quiet) (a.json ? err : out)(formatComparison(result));
        const failed = result.results.some((r) => r.reports.some((x) => x.status !== 'ok'));
        code = failed || !result.digestsEqual ? 1 : 0;
      },
    )
    .command(
      'bench <what>',
      'microbenchmarks: `bench ipc` measures the kernel\'s own IPC (round trip, pipelined, one-way bandwidth)',
      (y) =>
        y
          .positional('what', { choices: ['ipc'] as const, demandOption: true })
          .option('transports', { type: 'string', default: TRANSPORTS.join(','), describe: 'comma-separated transports' })
          .option('signals', { type: 'string', default: SIGNALS.join(','), describe: 'comma-separated signalling choices' })
          .option('sizes', { type: 'string', default: '8,64,512,4096,65536,1048576', describe: 'message payload sizes in bytes' })
          .option('spin-us', { type: 'number', default: DEFAULT_KERNEL_CONFIG.spinUs, describe: 'ring signalling: µs to poll before sleeping (see README)' })
          .option('depth', { type: 'number', default: 64, describe: 'calls in flight for the pipelined and bandwidth figures' })
          .option('effort', { type: 'number', default: 1, describe: 'scale the number of calls per figure' })
          .option('profile', { type: 'string', default: DEFAULT_PROFILE, describe: 'cost profile for the modelled round trip' })
          .option('json', { type: 'boolean', default: false, describe: 'print the results as JSON on stdout (the table goes to stderr)' }),
      async (a) => {
        const list = <T extends string>(flag: string, v: string, allowed: readonly T[]) =>
          v.split(',').map((x) => {
            if (!allowed.includes(x as T)) throw new UsageError(`--${flag}: unknown '${x}' (expected ${allowed.join(', ')})`);
            return x as T;
          });
        const sizes = a.sizes.split(',').map((x) => {
          const n = Number(x);
          if (!Number.isInteger(n) || n < 0 || n > 64 * 1024 * 1024) throw new UsageError(`--sizes: '${x}' is not a byte count from 0 to 64 MiB`);
          return n;
        });
        const opts = {
          transports: list('transports', a.transports, TRANSPORTS),
          signals: list('signals', a.signals, SIGNALS),
          sizes,
          spinUs: nonNegative('spin-us', a['spin-us'], 1_000_000),
          depth: positiveInt('depth', a.depth, 4096)!,
          effort: nonNegative('effort', a.effort, 100) || 1,
        };
        err(`bench ipc: this thread <-> one echo domain; spin ${opts.spinUs} µs; ${opts.depth} in flight for pipelined/bandwidth`);
        const profile = loadProfile(a.profile);
        const measured = await benchIpc({
          ...opts,
          onResult: (r) =>
            err(`  ${`${r.transport}:${r.signal}`.padEnd(17)} ${String(r.sizeBytes).padStart(8)} B  round trip ${r.roundTripUs.median} µs`),
        });
        const results = measured.map((r) => ({ ...r, modelled: priceRoundTrip(profile, r.bytesCopiedPerRoundTrip) }));
        const env = { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown' };
        if (a.json) out(JSON.stringify({ schemaVersion: 1, kind: 'bench-ipc', env, options: { ...opts, profile: profile.name }, results }, null, 2));
        (a.json ? err : out)(formatIpcBench(results));
      },
    )
    .command(
      'calibrate',
      'measure what each counted event costs here and write the host cost profile; --check compares the model with host-measured runs',
      (y) =>
        y
          .option('out', { type: 'string', describe: 'where to write the measured profile (default: profiles/host.json in this package)' })
          .option('effort', { type: 'number', default: 1, describe: 'scale the measuring loops' })
          .option('check', { type: 'boolean', default: false, describe: 'instead of measuring: run every shipped workload in both modes and print the modelled throughput\'s error against the host-measured one' })
          .option('profile', { type: 'string', default: 'host', describe: 'with --check: the profile to check' })
          .option('requests', { alias: 'n', type: 'number', default: 10_000, describe: 'with --check: requests per run (a workload of large files gets a hundredth)' })
          .option('modes', { type: 'string', default: 'monolithic,microkernel:copy', describe: 'with --check: comma-separated labels' })
          .option('max-error', { type: 'number', describe: 'with --check: exit 1 if any |error| exceeds this many percent' })
          .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON on stdout' }),
      async (a) => {
        if (a.check) {
          const profile = loadProfile(a.profile);
          const requests = positiveInt('requests', a.requests, 10_000_000)!;
          const labels = a.modes.split(',').map((s) => s.trim()).filter(Boolean);
          err(`calibrate --check: modelled (${profile.name}) against host-measured throughput, ${requests} requests per run`);
          const rows = await checkModel({
            profile,
            requests,
            labels,
            onRow: (r) => err(`  ${r.workload.padEnd(10)} ${r.label.padEnd(18)} host ${Math.round(r.hostRequestsPerSec)} req/s, modelled ${Math.round(r.modelledRequestsPerSec)} req/s`),
          });
          if (a.json) out(JSON.stringify({ schemaVersion: 1, kind: 'calibrate-check', profile: profile.name, rows }, null, 2));
          (a.json ? err : out)(formatCheck(profile.name, rows));
          const limit = a['max-error'] === undefined ? undefined : nonNegative('max-error', a['max-error'], 1e6);
          if (limit !== undefined && rows.some((r) => !(Math.abs(r.error) * 100 <= limit))) code = 1;
          return;
        }
        const effort = nonNegative('effort', a.effort, 100) || 1;
        const file = a.out ?? join(PROFILE_DIR, 'host.json');
        const profile = await calibrate({ effort, onStep: (s) => err(`  measuring ${s}...`) });
        writeFileSync(file, `${JSON.stringify({ $schema: '../schema/profile.schema.json', ...profile }, null, 2)}\n`);
        loadProfile(file); // what was written must load
        if (a.json) out(JSON.stringify(profile, null, 2));
        err(`wrote ${file}`);
        (a.json ? err : out)(formatProfile(loadProfile(file)));
      },
    )
    .command(
      'workloads',
      'list the shipped workloads (--long: with descriptions and sources)',
      (y) => y.option('long', { alias: 'l', type: 'boolean', default: false, describe: 'the whole description and its sources' }),
      (a) => {
        for (const name of shippedWorkloads()) {
          const w = loadWorkload(name);
          const services = w.services.map((s) => s.protocol).join('+');
          if (!a.long) {
            out(`${name.padEnd(10)} ${services.padEnd(16)} ${w.description.split('. ')[0].replace(/\.$/, '')}.`);
            continue;
          }
          out(`${name} (${services}; ${w.requests.toLocaleString('en-US')} requests, ${w.clients} clients, seed ${w.seed})`);
          out(wrapText(w.description, 78, '  '));
          for (const s of w.sources) out(wrapText(`source: ${s}`, 78, '  ', '    '));
          out('');
        }
      },
    )
    .command(
      'validate <file>',
      'check a workload file and say what is wrong with it',
      (y) => y.positional('file', { type: 'string', demandOption: true }),
      (a) => {
        const w = loadWorkload(a.file);
        out(`${a.file}: ok (workload '${w.name}', ${w.requests} requests, ${w.clients} clients)`);
      },
    )
    .demandCommand(1, 'name a command: run, compare, bench, workloads or validate')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, e) => {
      throw e ?? new UsageError(msg);
    })
    .parseAsync();
  return code;
}

// a reader that goes away (| head) ends the output, not the program with a stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

main(hideBin(process.argv)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    if (e instanceof UsageError || e instanceof WorkloadError || e instanceof LabelError || e instanceof ConfigError) {
      err(`microlith: ${e.message}`);
      if (e instanceof UsageError) err(`Run 'microlith --help' for usage.`);
      process.exitCode = 2;
    } else {
      err(`microlith: internal error: ${e instanceof Error ? e.message : String(e)}`);
      if (process.env.MICROLITH_DEBUG) err(e instanceof Error ? (e.stack ?? '') : '');
      process.exitCode = 1;
    }
  },
);
