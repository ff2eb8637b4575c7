/**
 * microlith's library entry: re-exports only.
 */
export { run, resolveRun, SCHEMA_VERSION, type RunOptions, type RunReport } from './run.js';
export {
  compare,
  parseLabel,
  DEFAULT_LABELS,
  LabelError,
  type CompareOptions,
  type Comparison,
  type CompareResult,
  type Label,
} from './compare.js';
export {
  ConfigError,
  DEFAULT_KERNEL_CONFIG,
  MODES,
  SIGNALS,
  TRANSPORTS,
  type KernelConfig,
  type Mode,
  type Signal,
  type Transport,
} from './config.js';
export { benchIpc, type IpcBenchOptions, type IpcBenchResult } from './microkernel/bench-ipc.js';
export { loadWorkload, parseWorkload, parseWorkloadBytes, shippedWorkloads, WorkloadError } from './workload/load.js';
export { WorkloadSchema, type Arrival, type Workload, type WorkloadFile } from './workload/schema.js';
export { COUNTER_NAMES, MODE_SPECIFIC_COUNTERS, type CounterName, type CounterValues } from './metrics/counters.js';
export type { LatencySummary } from './metrics/latency.js';
export type { Outcomes } from './wire/registers.js';
export type { DomainUsage, FaultRecord } from './kernel.js';
export type * from './protocol.js';
