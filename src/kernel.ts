/**
 * What the harness sees of a kernel, whichever it is.
 */
import type { CounterValues } from './metrics/counters.js';
import type { ServerName } from './protocol.js';
import type { WireResult } from './wire/clients.js';
import type { Workload } from './workload/schema.js';

export interface RunPlan {
  workload: Workload;
  requests: number;
  clients: number;
}

/**
 * A server that failed during the run: a monolithic panic, a microkernel worker
 * crash, or a hang (its domain stopped answering heartbeats; in the monolith the
 * whole kernel hangs, and the server is the one it was running).
 */
export interface FaultRecord {
  server: ServerName;
  kind: 'panic' | 'crash' | 'hang';
  message: string;
}

/** A protection domain (a thread) and how busy it was during the run (host-measured). */
export interface DomainUsage {
  name: string;
  servers: ServerName[];
  /** Fraction of the run's wall time the domain's event loop was busy, 0..1. */
  utilisation: number;
  /** Host-measured busy time of the domain per completed request, µs (filled in by the report). */
  busyUsPerRequest?: number;
}

export interface KernelRunResult {
  /** What the wire device measured; null if the domain holding it died. */
  wire: WireResult | null;
  faults: FaultRecord[];
  domains: DomainUsage[];
}

export interface Kernel {
  /** Run the workload's clients against the booted servers until done or a server dies. */
  run(plan: RunPlan): Promise<KernelRunResult>;
  /** What each server counted so far (readable even after a server died). */
  counters(): Record<ServerName, CounterValues>;
  /** Stop everything; afterwards no thread, port or timer of this kernel is alive. */
  shutdown(): Promise<void>;
}
