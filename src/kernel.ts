/**
 * What the harness sees of a kernel, whichever it is.
 */
import type { CounterValues } from './metrics/counters.js';
import type { ServerName } from './protocol.js';
import type { Workload } from './workload/schema.js';
import type { TraceRecord } from './trace/types.js';
import type { ThreadCpu } from './harness/domain.js';

export interface RunPlan {
  workload: Workload;
  requests: number;
  clients: number;
}

/**
 * A server that failed during the run, as the kernel saw it: a monolithic
 * panic (the whole system stopped), or a microkernel server domain that
 * crashed (threw), exited, ran out of memory or hung (missed its heartbeats).
 * `outcome`: what became of the system: the supervisor restarted the server,
 * gave up on it, or (in the monolith) everything stopped.
 */
export interface FaultRecord {
  server: ServerName;
  kind: 'panic' | 'crash' | 'exit' | 'oom' | 'hang';
  message: string;
  outcome: 'restarted' | 'given-up' | 'system-down';
  /** When the kernel noticed, ms after the clients started (host-measured). */
  noticedAtMs: number;
  /** The incarnation that failed (1 = the first). */
  incarnation: number;
  /** The planned fault (its index in the plan) that struck this incarnation, if one did. */
  planned: number | null;
}

/** A protection domain (a thread) and how busy it was during the run (host-measured). */
export interface DomainUsage {
  name: string;
  servers: ServerName[];
  /** Fraction of the run's wall time the domain's event loop was busy, 0..1 (over all its incarnations). */
  utilisation: number;
  /** Host-measured busy time of the domain per completed request, µs (filled in by the report). */
  busyUsPerRequest?: number;
  /**
   * The scheduler's times of the domain's thread during the run (host-measured,
   * Linux's schedstat; of the incarnation alive at the end): on a core, and
   * runnable but waiting for one. The event loop's utilisation counts both as
   * busy. Null where the system does not say, or the thread is gone.
   */
  thread: ThreadCpu | null;
  /** `thread`'s time on a core per completed request, µs; null without it (filled in by the report). */
  onCpuUsPerRequest?: number | null;
  /** `thread`'s time waiting for a core per completed request, µs; null without it (filled in by the report). */
  runQueueUsPerRequest?: number | null;
  /**
   * Ring signalling only: what the domain's pump did during the run (its current
   * incarnation's), host-measured and timing-dependent, never a counter: turns of
   * its loop, sleeps on its doorbell, and notifies it paid for to wake a sleeping
   * domain.
   */
  pump?: { turns: number; sleeps: number; notifies: number };
}

/** What the supervisor did for one server (host-measured times). */
export interface Supervision {
  incarnations: number;
  restarts: number;
  /** The supervisor gave up on it (restart intensity exceeded). */
  givenUp: boolean;
  /** Per restart: ms from the failure to the first call the new incarnation served (null if it served none). */
  recoveryMs: (number | null)[];
  /** Total ms it was down: from each failure until its next incarnation was up (or the end of the run). */
  downMs: number;
}

export interface KernelRunResult {
  faults: FaultRecord[];
  domains: DomainUsage[];
  supervision: Record<ServerName, Supervision>;
  /** What did not end in time after the wire closed (then the counts may miss the last messages). */
  late: string[];
  /** The first calls refused for want of a grant (ECALLDENIED), "from -> to: TYPE", as the domains alive at the end logged them. */
  denied: string[];
  /** With tracing: what the domains alive at the end traced (else absent). */
  trace?: TraceRecord[];
}

export interface Kernel {
  /** The clients are about to start: run the servers' own loops. */
  start(): Promise<void>;
  /** The wire has closed: wait for the servers' loops to end (bounded), and report. */
  finish(): Promise<KernelRunResult>;
  /** What each server counted so far (readable even after a server died). */
  counters(): Record<ServerName, CounterValues>;
  /** Stop everything; afterwards no thread, port or timer of this kernel is alive. */
  shutdown(): Promise<void>;
}
