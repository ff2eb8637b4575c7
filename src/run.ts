/**
 * `run()`: one workload under one kernel, from options to a run report.
 *
 * The harness (this thread) lays out the disk image, boots the kernel, lets the
 * wire's clients run, and reads what the kernel counted. It stays outside every
 * server's fault domain: a dead server ends the run with a report, never a hang.
 */
import os from 'node:os';
import { PACKAGE } from './paths.js';
import { DEFAULT_KERNEL_CONFIG, type KernelConfig, type Mode, type Signal, type Transport } from './config.js';
import { defined, parseRunOptions, type ParsedRunOptions, type RunOptions } from './options.js';
import { RANGES } from './limits.js';
import { pow2AtLeast } from './microkernel/ring.js';
import type { DomainUsage, Kernel, FaultRecord } from './kernel.js';
import type { KernelEnv } from './harness/env.js';
import { epochMs, markStart, newFaultBoard, struckFaults } from './faults/inject.js';
import { formatFaultSpec, type FaultKind } from './faults/plan.js';
import { WireLink, type DeviceLink } from './wire/link.js';
import { clientPlan, SimulatedWire } from './wire/clients.js';
import { sumCounters, type CounterValues } from './metrics/counters.js';
import type { LatencySummary } from './metrics/latency.js';
import type { Pacing } from './wire/pacing.js';
import { round } from './metrics/stats.js';
import { Microkernel } from './microkernel/kernel.js';
import { MonolithicDomain } from './harness/monolithic-domain.js';
import type { ServerName } from './protocol.js';
import { blocksFor, ImageCache, mkfs } from './servers/fs.js';
import { ledgerOf, newRegisters, readDigest, readOutcomes, REG, requestStop, type Outcomes, type Registers } from './wire/registers.js';
import { fileSet, largestFile } from './workload/generate.js';
import { loadWorkload } from './workload/load.js';
import { writesToDisk, type Arrival, type Workload } from './workload/schema.js';
import { checkDurability, type Durability } from './durability.js';
import { placedModules, type Machine } from './boot.js';
import { loadProfile, type Profile } from './costmodel/profile.js';
import { price, type Modelled } from './costmodel/price.js';
import { TraceRecorder } from './trace/recorder.js';
import { buildTraceSample } from './trace/chrome.js';
import type { TraceSample } from './trace/types.js';

/** The version of the JSON shape of run, comparison and sweep reports (`schemaVersion` in each). */
export const SCHEMA_VERSION = 1;

export type { RunOptions } from './options.js';
export type { TraceSample, TraceEvent, RequestSequence, MessageStep } from './trace/types.js';

/**
 * What `run()` returns: the configuration and host, what the clients saw, the
 * counted work, the host-measured times and the modelled prices, the faults
 * and their recovery, and a status with its reasons.
 */
export interface RunReport {
  schemaVersion: number;
  tool: { name: string; version: string };
  config: KernelConfig & { workload: string; seed: number | string; requests: number; clients: number };
  env: { node: string; platform: string; arch: string; cpus: number; cpuModel: string };
  mode: Mode;
  /** How payloads crossed domains: null in the monolith, which passes references. */
  transport: Transport | null;
  /** How domains were signalled: null in the monolith, which makes direct calls. */
  signal: Signal | null;
  workload: { name: string; seed: number | string; requests: number; clients: number; arrival: Arrival; durationMs: number | null };
  /** Why the clients stopped: every request sent, the duration ran out, or a fault stopped the run. */
  endedBy: 'requests' | 'duration' | 'stop' | 'fault';
  outcomes: Outcomes;
  /**
   * Host-measured wall time on this machine, from the first request to the last
   * reply (if the clients' domain died: from boot to shutdown, as the harness saw it).
   */
  elapsedMs: number;
  /**
   * Host-measured throughput. `secondHalfRequestsPerSec` counts only the requests
   * that ended ok in the second half of the elapsed time, over that half: the run
   * once under way, without its cold start (an empty buffer cache, and threads that
   * compile their code afresh). Null where the wire cannot time each request (serve's
   * real clients) or for a run under 2 ms.
   */
  throughput: { requestsPerSec: number; secondHalfRequestsPerSec: number | null; payloadBytesPerSec: number; requestsPerCpuSec: number };
  /** Host-measured CPU time of the whole process (all threads) during the run. */
  cpu: { userMs: number; systemMs: number };
  /** Each protection domain (thread) and its host-measured event-loop utilisation. */
  domains: DomainUsage[];
  /**
   * Per server: its domain and that domain's utilisation; what the supervisor
   * did (incarnations, restarts, given up); host-measured recovery times, from
   * each failure (the fault striking, or the kernel noticing) to the first call
   * the next incarnation served, and the ms it was down in all. `crashed`: it
   * failed at least once. In the monolith a failure is a panic of everything:
   * no server is restarted.
   */
  servers: Record<ServerName, ServerReport>;
  /** The share of the requests sent that ended ok (0..1). */
  availability: number;
  /** Calls repeated because their callee died under them (the app's, to disk and net), and reads the clients sent again after a reset. */
  retries: { calls: number; resentReads: number };
  /** Requests whose connection was reset because the net server, or the system, went down under them. */
  resets: number;
  /**
   * The calls refused because the caller held no grant for them (ECALLDENIED;
   * counted in `callsDenied`), "from -> to: TYPE": the first 16 of each domain
   * alive at the end.
   */
  deniedCalls: string[];
  /** Host-measured round-trip latency of a request as the client sees it; null if lost with its domain. */
  latencyUs: Omit<LatencySummary, 'count'> | null;
  /**
   * Open loop only (else null, and null if lost with its domain): how well the
   * clients kept the arrival schedule, host-measured. `sentEarly` counts requests
   * sent before their scheduled arrival (always 0); `sentLateOver1Ms` those
   * released more than 1 ms after it; `lateUs` how late each was released, in µs.
   * Waiting for a max-in-flight slot is queueing and shows in `latencyUs` instead.
   */
  pacing: Pacing | null;
  /** Counted work, all servers together (deterministic for a seed and configuration). */
  counters: CounterValues;
  /** Counted work divided by the requests that completed. */
  perRequest: { bytesCopied: number; ipcMessages: number; crossings: number; payloadBytes: number; directCalls: number };
  countersByServer: Record<ServerName, CounterValues>;
  /**
   * Order-independent digest of the responses to the requests counted ok, and
   * their count (`-N` at the end, equal to `outcomes.ok`): equal across kernels
   * for the same workload and seed. A 5xx response counts as `fail` and is not in it.
   */
  digest: string;
  /**
   * Every failure of a server (kind, what the kernel did about it) and every
   * planned fault that struck without one (a garbage reply, a lost write:
   * outcome `survived`), with where the fault struck.
   */
  faults: FaultReport[];
  /** The planned faults, each with whether and where it struck (injected vs activated). */
  faultPlan: { spec: string; struck: boolean; atMs: number | null; request: number | null; atMessage: number | null }[];
  /**
   * For a workload that writes: every acknowledged write checked against the
   * disk image after the kernel stopped. `lost` > 0 fails the run. Null if the
   * workload does not write.
   */
  durability: Durability | null;
  /** The counted events priced by a hardware cost profile: modelled, not measured. */
  modelled: Modelled;
  /**
   * 'ok': every request sent ended ok and nothing was lost. 'incomplete': no
   * server failed, but some requests failed or have an unknown outcome (a call
   * past its deadline), or the run was stopped early. 'failed': a server
   * crashed, panicked or hung, a request never settled, or an acknowledged
   * write was lost. The reasons are in `problems`.
   */
  status: 'ok' | 'incomplete' | 'failed';
  problems: string[];
  /**
   * With the `trace` option: the first N requests by request id, traced
   * through every domain (Chrome Trace Events, and each one's message
   * sequence); null without it. Host-measured times; counted work is the
   * same either way.
   */
  trace: TraceSample | null;
}

export interface ServerReport {
  domain: string;
  utilisation: number;
  incarnations: number;
  restarts: number;
  givenUp: boolean;
  crashed: boolean;
  /** Host-measured ms from a failure to the next incarnation's first served call, over its restarts; null without one. */
  recoveryMs: { p50: number; p99: number; max: number; count: number; each: number[] } | null;
  /** Host-measured ms the server was down in all. */
  downMs: number;
}

/** One fault in the report. */
export interface FaultReport {
  server: ServerName;
  /** What happened: a panic of the whole monolith, a server domain that crashed, exited, ran out of memory or hung, or a planned fault that struck without killing anything. */
  kind: FaultRecord['kind'] | FaultKind;
  message: string;
  outcome: FaultRecord['outcome'] | 'survived';
  /** The planned fault behind it (canonical form), or null for a failure nobody planned. */
  planned: string | null;
  /** Where it struck: ms after the clients started, the requests sent by then, the server's message number (null if not known). */
  atMs: number | null;
  request: number | null;
  atMessage: number | null;
  /** When the kernel noticed (ms after the clients started); null for a fault that killed nothing. */
  noticedAtMs: number | null;
  incarnation: number;
}

/** At most this many pool slots (256 MiB) are set aside for blocks in flight. */
const MAX_IN_FLIGHT_BLOCKS = 65536;

const FAULT_VERB = { panic: 'panicked the kernel', crash: 'crashed', exit: 'exited', oom: 'ran out of memory', hang: 'hung' } as const;

/** The app keeps at most this many receives posted; more requests wait in net's queue. */
const MAX_RECEIVES = 256;

/**
 * The laid-out images made in this process, by file set and seed. Filling one costs
 * about 0.6 ns of CPU a byte (specweb96's 51 MB image about 30 ms, its page faults
 * included), and a process that runs several workloads or seeds in turn (a comparison
 * over seeds, a sweep, a test suite) would otherwise make the same images again and again.
 */
const images = new ImageCache(256 * 1024 * 1024);

/**
 * The laid-out image for a workload, made once per file set and seed (above); a
 * workload that writes gets a copy of its own, so every run starts from the same media.
 */
function imageFor(w: Workload): SharedArrayBuffer {
  const img = images.get(JSON.stringify([w.seed, w.fileSet ?? null]), () => mkfs(fileSet(w), w.seed));
  if (!writesToDisk(w)) return img;
  const own = new SharedArrayBuffer(img.byteLength);
  new Uint8Array(own).set(new Uint8Array(img));
  return own;
}

/** The machine a run of `w` boots: its image, seed and (with a dns service) zone. */
function machineFor(w: Workload): Machine {
  const dns = w.services.find((s) => s.protocol === 'dns');
  return { image: imageFor(w), seed: w.seed, zone: dns ? { origin: dns.zone.origin, names: dns.zone.names } : null };
}

/**
 * Everything resolved: the options checked and completed, the workload with its
 * overrides, and the kernel configuration. Throws a ConfigError (or the
 * workload's or profile's own error) before any work starts.
 */
export function resolveRun(options: RunOptions): { workload: Workload; cfg: KernelConfig; profile: Profile; options: ParsedRunOptions } {
  const opts = parseRunOptions(options);
  const base = typeof opts.workload === 'string' ? loadWorkload(opts.workload) : opts.workload;
  const profile = typeof opts.profile === 'object' ? opts.profile : loadProfile(opts.profile);
  const durationMs = opts.durationMs ?? base.durationMs;
  const workload: Workload = {
    ...base,
    seed: opts.seed ?? base.seed,
    // a duration given here needs no request cap unless one is given too
    requests: opts.requests ?? (opts.durationMs !== undefined ? RANGES.requests.max : base.requests),
    clients: opts.clients ?? base.clients,
    arrival: opts.arrival ?? base.arrival,
    durationMs,
  };
  const cacheBlocks = opts.cacheBlocks;
  const largest = largestFile(workload);
  const outstanding = workload.arrival.kind === 'open' ? workload.arrival.maxInFlight : workload.clients;
  const inFlight = Math.min(outstanding * blocksFor(largest), MAX_IN_FLIGHT_BLOCKS);
  const cfg: KernelConfig = {
    ...DEFAULT_KERNEL_CONFIG,
    mode: opts.mode,
    cacheBlocks,
    poolBlocks: opts.poolBlocks ?? cacheBlocks + inFlight,
    // a ring takes records up to half its size: room for the largest response and headers
    ringBytes: opts.ringBytes ?? Math.max(DEFAULT_KERNEL_CONFIG.ringBytes, pow2AtLeast(2 * (largest + 65536))),
    mtu: opts.mtu,
    checksumOffload: opts.checksumOffload,
    callTimeoutMs: opts.callTimeoutMs,
    hangTimeoutMs: opts.hangTimeoutMs,
    ...defined({ faults: opts.faults, maxRestarts: opts.maxRestarts, restartWindowMs: opts.restartWindowMs, heapLimitMb: opts.heapLimitMb, serverModules: opts.serverModules, restartPolicy: opts.restartPolicy }),
    receives: Math.min(outstanding, MAX_RECEIVES),
    ...defined({ signal: opts.signal, spinUs: opts.spinUs, transport: opts.transport }),
    ...defined({ transportModule: opts.mode === 'microkernel' ? opts.transportModule : undefined }),
  };
  return { workload, cfg, profile, options: opts };
}

function roundModelled(m: Modelled): Modelled {
  const r = (x: number) => round(x, 5);
  const map = <K extends string>(o: Record<K, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, r(v as number)])) as Record<K, number>;
  return {
    ...m,
    perRequestUs: map(m.perRequestUs),
    cpuUsPerRequest: r(m.cpuUsPerRequest),
    diskUsPerRequest: r(m.diskUsPerRequest),
    domainsUsPerRequest: map(m.domainsUsPerRequest),
    requestsPerSec: r(m.requestsPerSec),
  };
}

/** Run one workload under one kernel and report. */
export async function run(options: RunOptions = {}): Promise<RunReport> {
  const resolved = resolveRun(options);
  const { workload: w, cfg, options: opts } = resolved;
  const writes = writesToDisk(w);
  // a run that writes keeps a ledger of every request's outcome, to check its writes by
  const regs = newRegisters(writes ? w.requests : 0);
  const link = new WireLink(cfg.callTimeoutMs);
  const wire = new SimulatedWire(regs);
  return execute(resolved, { machine: machineFor(w), regs, link, writes, countIssued: w.durationMs !== undefined }, async () => {
    // an abort stops the clients sending; what is in flight finishes
    const stop = () => requestStop(regs);
    if (opts.abortSignal?.aborted) stop();
    opts.abortSignal?.addEventListener('abort', stop, { once: true });
    try {
      const wired = await wire.run(clientPlan({ workload: w, requests: w.requests, clients: w.clients }), (id, req, again) => link.send(id, req.line, req.body, again));
      // the clients are done: the wire closes, and the servers' own loops end
      await link.close();
      return wired;
    } finally {
      opts.abortSignal?.removeEventListener('abort', stop);
    }
  });
}

/** What the wire saw of a run, however it was driven (the simulated clients, or a socket's real ones). */
export interface Driven {
  /** Host-measured ms from the first request the wire could send to the last reply. */
  elapsedMs: number;
  latencyUs: LatencySummary;
  endedBy: 'requests' | 'duration' | 'stop';
  pacing: Pacing | null;
  /** Reads the clients sent again after a reset. */
  resent: number;
  /** Requests ended ok per second in the second half of the elapsed time; null where the wire does not time them. */
  secondHalfOkPerSec: number | null;
}

/** One run's harness-side parts: the machine it boots, the wire's registers, the link to net's device. */
export interface Harness {
  machine: Machine;
  regs: Registers;
  link: DeviceLink & { readonly resets: number };
  /** The workload writes: check every acknowledged write after the kernel stops. */
  writes: boolean;
  /** The request count is what was issued (a run with a duration, or real clients), not the workload's. */
  countIssued: boolean;
}

/**
 * Boot the kernel of `resolved`, drive it (`drive` sends the requests and
 * closes the wire once they are done), stop it, and report. The kernel runs
 * off this thread, so that no crash or hang of it can stop the harness.
 */
export async function execute(resolved: ReturnType<typeof resolveRun>, h: Harness, drive: () => Promise<Driven>): Promise<RunReport> {
  const { workload: w, cfg, profile } = resolved;
  const { machine, regs, link, writes } = h;
  const traced = resolved.options.trace ?? null;
  // the clients' side of the trace (the simulated wire only)
  const wireTrace = traced && link instanceof WireLink ? new TraceRecorder(traced, 'wire', 1) : null;
  if (wireTrace) (link as WireLink).trace(wireTrace);
  const board = newFaultBoard(cfg.faults.length);
  let t0 = 0;
  const blamed = new Set<number>();
  const env: KernelEnv = {
    cfg,
    machine,
    regs,
    board,
    link,
    sinceStart: () => (t0 ? round(epochMs() - t0, 3) : 0),
    lastStruck(server) {
      // the latest planned fault of `server` that struck, kills, and is not blamed yet
      let best: number | null = null;
      for (const f of struckFaults(board, cfg.faults.length)) {
        const spec = cfg.faults[f.index];
        if (blamed.has(f.index) || spec.kind === 'lose') continue;
        if (server !== null && (spec.server !== server || spec.kind === 'garbage')) continue;
        best = f.index;
      }
      if (best !== null) blamed.add(best);
      return best;
    },
    trace: traced,
  };
  // a module of one's own placed for a server is checked here first: a bad one is a ModuleError naming the file, before any thread starts
  await placedModules(cfg);
  const kernel: Kernel = cfg.mode === 'monolithic' ? await new MonolithicDomain(env).boot() : await Microkernel.boot(env);
  let result;
  let wired;
  const cpu0 = process.cpuUsage();
  try {
    markStart(board);
    t0 = epochMs();
    await kernel.start();
    wired = await drive();
    result = await kernel.finish();
  } finally {
    await kernel.shutdown();
  }
  const cpu = process.cpuUsage(cpu0);
  const byServer = kernel.counters();
  const counters = sumCounters(Object.values(byServer));
  const systemDown = result.faults.some((f) => f.outcome === 'system-down');
  const endedBy = systemDown ? 'fault' : wired.endedBy;
  // a run with a duration sent what it sent: that is its request count
  const outcomes = readOutcomes(regs, endedBy === 'duration' || h.countIssued ? Atomics.load(regs, REG.issued) : w.requests);
  const elapsedMs = wired.elapsedMs;
  const done = outcomes.ok + outcomes.fail + outcomes.info;
  const per = (x: number) => (done ? round(x / done, 4) : 0);
  // every thread of the kernel has stopped: the media is as the run left it
  const durability = writes ? checkDurability(w, machine.image, ledgerOf(regs)) : null;
  const struck = struckFaults(board, cfg.faults.length);
  const sinceT0 = (at: number) => round(at - t0, 3);
  const faults: FaultReport[] = result.faults.map((f) => {
    const s = f.planned === null ? undefined : struck.find((x) => x.index === f.planned);
    return {
      server: f.server,
      kind: f.kind,
      message: f.message,
      outcome: f.outcome,
      planned: f.planned === null ? null : formatFaultSpec(cfg.faults[f.planned]),
      atMs: s ? sinceT0(s.atEpochMs) : null,
      request: s ? s.request : null,
      atMessage: s ? s.message : null,
      noticedAtMs: f.noticedAtMs,
      incarnation: f.incarnation,
    };
  });
  for (const s of struck) {
    if (result.faults.some((f) => f.planned === s.index)) continue;
    const spec = cfg.faults[s.index];
    // a fault that killed nothing (a garbage reply, a lost write), or whose failure was blamed on a later one
    faults.push({
      server: spec.server,
      kind: spec.kind,
      message: `${formatFaultSpec(spec)} struck`,
      outcome: systemDown ? 'system-down' : 'survived',
      planned: formatFaultSpec(spec),
      atMs: sinceT0(s.atEpochMs),
      request: s.request,
      atMessage: s.message,
      noticedAtMs: null,
      incarnation: 0,
    });
  }
  faults.sort((a, b) => (a.atMs ?? a.noticedAtMs ?? 0) - (b.atMs ?? b.noticedAtMs ?? 0));
  const failures = [
    ...result.faults.filter((f) => f.outcome !== 'restarted').map((f) => `${f.server} ${FAULT_VERB[f.kind]}: ${f.message}`),
    ...(outcomes.pending ? [`${outcomes.pending} requests never settled`] : []),
    ...(durability?.lost ? [`${durability.lost} of ${durability.ackedWrites} acknowledged writes are not on the disk image (${durability.firstLoss})`] : []),
  ];
  const shortfalls = [
    ...(outcomes.fail || outcomes.info
      ? [`${outcomes.fail + outcomes.info} of ${done} requests did not end ok (${outcomes.fail} failed, ${outcomes.info} with unknown outcome)`]
      : []),
    ...(endedBy === 'stop' && outcomes.notIssued ? [`stopped before ${outcomes.notIssued} of ${w.requests} requests were sent`] : []),
    ...result.late,
  ];
  const problems = [...failures, ...shortfalls];
  const { count: _count, ...latency } = wired.latencyUs;
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: PACKAGE.name, version: PACKAGE.version },
    config: { ...cfg, workload: w.name, seed: w.seed, requests: w.requests, clients: w.clients },
    env: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
    },
    mode: cfg.mode,
    transport: cfg.mode === 'monolithic' ? null : cfg.transport,
    signal: cfg.mode === 'monolithic' ? null : cfg.signal,
    workload: {
      name: w.name,
      seed: w.seed,
      requests: outcomes.ok + outcomes.fail + outcomes.info + outcomes.pending + outcomes.notIssued,
      clients: w.clients,
      arrival: w.arrival,
      durationMs: w.durationMs ?? null,
    },
    endedBy,
    outcomes,
    elapsedMs: round(elapsedMs, 6),
    throughput: {
      requestsPerSec: round((outcomes.ok / elapsedMs) * 1000, 5),
      secondHalfRequestsPerSec: wired.secondHalfOkPerSec === null ? null : round(wired.secondHalfOkPerSec, 5),
      payloadBytesPerSec: round((counters.payloadBytes / elapsedMs) * 1000, 5),
      requestsPerCpuSec: round(outcomes.ok / ((cpu.user + cpu.system) / 1e6), 5),
    },
    cpu: { userMs: round(cpu.user / 1000, 6), systemMs: round(cpu.system / 1000, 6) },
    domains: result.domains.map((d) => ({
      ...d,
      utilisation: round(d.utilisation, 3),
      busyUsPerRequest: done ? round((d.utilisation * elapsedMs * 1000) / done, 3) : 0,
      thread: d.thread ? { onCpuMs: round(d.thread.onCpuMs, 3), runQueueMs: round(d.thread.runQueueMs, 3) } : null,
      onCpuUsPerRequest: d.thread && done ? round((d.thread.onCpuMs * 1000) / done, 3) : null,
      runQueueUsPerRequest: d.thread && done ? round((d.thread.runQueueMs * 1000) / done, 3) : null,
    })),
    servers: Object.fromEntries(
      result.domains.flatMap((d) =>
        d.servers.map((s): [ServerName, ServerReport] => {
          const sv = result.supervision[s];
          const rec = sv.recoveryMs.filter((x): x is number => x !== null).sort((a, b) => a - b);
          return [
            s,
            {
              domain: d.name,
              utilisation: round(d.utilisation, 3),
              incarnations: sv.incarnations,
              restarts: sv.restarts,
              givenUp: sv.givenUp,
              crashed: result.faults.some((f) => f.server === s),
              recoveryMs: rec.length ? { p50: round(quantile(rec, 0.5), 3), p99: round(quantile(rec, 0.99), 3), max: round(rec[rec.length - 1], 3), count: rec.length, each: rec.map((x) => round(x, 3)) } : null,
              downMs: round(sv.downMs, 3),
            },
          ];
        }),
      ),
    ) as RunReport['servers'],
    availability: outcomes.ok + outcomes.fail + outcomes.info ? round(outcomes.ok / (outcomes.ok + outcomes.fail + outcomes.info), 6) : 1,
    retries: { calls: counters.retries, resentReads: wired.resent },
    resets: link.resets + counters.connectionsReset,
    deniedCalls: result.denied,
    latencyUs: done ? (latency as RunReport['latencyUs']) : null,
    pacing: wired.pacing,
    counters,
    perRequest: {
      bytesCopied: per(counters.bytesCopied),
      ipcMessages: per(counters.ipcMessages),
      crossings: per(counters.crossings),
      payloadBytes: per(counters.payloadBytes),
      directCalls: per(counters.directCalls),
    },
    countersByServer: byServer,
    digest: readDigest(regs),
    faults,
    faultPlan: cfg.faults.map((spec, i) => {
      const s = struck.find((x) => x.index === i);
      return { spec: formatFaultSpec(spec), struck: !!s, atMs: s ? sinceT0(s.atEpochMs) : null, request: s?.request ?? null, atMessage: s?.message ?? null };
    }),
    durability,
    modelled: roundModelled(price(profile, cfg.mode, byServer, result.domains, done)),
    status: failures.length ? 'failed' : shortfalls.length ? 'incomplete' : 'ok',
    problems,
    trace: traced ? buildTraceSample([...(wireTrace?.drain() ?? []), ...(result.trace ?? [])], { mode: cfg.mode, requests: traced.requests, startUs: t0 * 1000 }) : null,
  };
}

/** The q-quantile of sorted `xs` (nearest rank). */
function quantile(xs: number[], q: number): number {
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];
}
