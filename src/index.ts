/**
 * microlith's library entry: re-exports only.
 */
export { run, resolveRun, SCHEMA_VERSION, type RunOptions, type RunReport } from './run.js';
export { compare, parseLabel, DEFAULT_LABELS, type CompareOptions, type Comparison, type CompareResult } from './compare.js';
export { DEFAULT_KERNEL_CONFIG, MODES, TRANSPORTS, type KernelConfig, type Mode, type Transport } from './config.js';
export { loadWorkload, parseWorkload, shippedWorkloads, WorkloadError } from './workload/load.js';
export { WorkloadSchema, type Workload, type WorkloadFile } from './workload/schema.js';
export { COUNTER_NAMES, MODE_SPECIFIC_COUNTERS, type CounterName, type CounterValues } from './metrics/counters.js';
export type { LatencySummary } from './metrics/latency.js';
export type { Outcomes } from './wire/registers.js';
export type { FaultRecord } from './kernel.js';
export type * from './protocol.js';
