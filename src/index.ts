/**
 * microlith's library entry: re-exports only.
 */
export { run, resolveRun, SCHEMA_VERSION, type RunOptions, type RunReport } from './run.js';
export {
  parseRunOptions,
  parseCompareOptions,
  RunOptionsSchema,
  CompareOptionsSchema,
  DEFAULT_MODE,
  DEFAULT_WORKLOAD,
  RANDOM_PLAN_REQUESTS,
  type ParsedRunOptions,
  type ParsedCompareOptions,
} from './options.js';
export { RANGES, rangeText, type Range, type RangedOption } from './limits.js';
export {
  parseFaultSpec,
  formatFaultSpec,
  parseRandomPlan,
  randomFaultPlan,
  faultsFromText,
  FaultSpecError,
  FAULT_KINDS,
  TRIGGER_KINDS,
  type FaultSpec,
  type FaultKind,
  type FaultTrigger,
  type TriggerKind,
  type RandomPlan,
} from './faults/plan.js';
export {
  campaign,
  classifyRun,
  summariseCampaign,
  scheduleFault,
  replayCommand,
  CAMPAIGN_SCHEMA_VERSION,
  DEFAULT_CAMPAIGN_SETTINGS,
  DEFAULT_CAMPAIGN_WORKLOAD,
  DEFAULT_CAMPAIGN_REQUESTS,
  DEFAULT_CAMPAIGN_SEED,
  DEFAULT_GUARD_MS,
  type CampaignOptions,
  type CampaignReport,
  type CampaignConfig,
  type CampaignRunSettings,
  type CampaignRun,
  type CampaignRow,
  type CampaignTotals,
  type CampaignProgress,
  type BrokenSchedule,
  type RecoveryQuantiles,
  type RequestTally,
  type GuardedRun,
} from './faults/campaign.js';
export { formatCampaign } from './report/campaign.js';
export { serve, parseServeOptions, indexPage, ListenError, SERVE_DEFAULTS, type ServeOptions, type ServeReport } from './serve.js';
export type { HttpReport } from './wire/serve-link.js';
export { HTTP_EVENTS, type HttpEvent, type ServeSpec } from './wire/socket.js';
export {
  compare,
  parseLabel,
  DEFAULT_LABELS,
  LabelError,
  type CompareOptions,
  type Comparison,
  type CompareResult,
  type CountedPerRequest,
  type Label,
  NOISY_CV,
  MIN_RUNS,
  comparisonOfRun,
} from './compare.js';
export { compareToBaseline, formatBaseline, BaselineError, type BaselineOptions, type BaselineDiff, type BaselineLabelDiff, type BaselineFigure, type FigureChange } from './baseline.js';
export { toCsv, parseCsv, toMarkdown, comparisonOf, CSV_COLUMNS, type CsvColumn, type Exportable } from './report/export.js';
export { toHtml, type HtmlOptions } from './report/html.js';
export { formatRun, formatComparison, formatServe } from './report/text.js';
export { chromeTraceFile, chromeTraceOfRuns } from './trace/chrome.js';
export type { TraceSample, TraceEvent, RequestSequence, MessageStep } from './trace/types.js';
export { stats, type Stats, type Spread } from './metrics/stats.js';
export { ok, fail, type ServerModule, type ServerContext, type CallTable, type Handler, type Caller, type Handle } from './servers/server.js';
export { loadServerModule } from './boot.js';
export { ModuleError } from './module-file.js';
// a restart policy of one's own for the microkernel's supervisor (the restartPolicy option)
export { GRANT_LAYOUT, grantId, grantIndex, grantGen, loadTransportModule, type TransportModule, type GrantContext, type GrantLayout } from './microkernel/transport-module.js';
export { loadRestartPolicy, defaultRestartPolicy, MAX_DELAY_MS, type RestartRequest, type RestartPolicyFunction, type RestartPolicyExport, type RestartDecision } from './microkernel/policy-module.js';
// the shipped servers' modules, to build a user's own server module on (see examples/)
export { disk as diskServer } from './servers/disk.js';
export { net as netServer } from './servers/net.js';
export { app as appServer } from './servers/app.js';
export { sweep, sweepCells, shardFromEnv, parseSweepParam, cellSeed, SWEEPABLE, DEFAULT_SWEEP_SEED, type SweepOptions, type SweepResult, type SweepResultCell, type SweepCell, type SweepCellFile, type SweepProgress, type SweepKey, type SweepValue, type Shard } from './sweep.js';
export { merge, sweepComparison, MergeError } from './merge.js';
export {
  ConfigError,
  fieldName,
  type ConfigProblem,
  type OptionNamer,
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
export { type Service, type Protocol, writesToDisk } from './workload/schema.js';
export { checkDurability, type Durability } from './durability.js';
export {
  loadProfile,
  resolveProfile,
  shippedProfiles,
  DEFAULT_PROFILE,
  PARAMS,
  PARAM_NAMES,
  ProfileSchema,
  type Profile,
  type ProfileFile,
  type Param,
  type ParamName,
} from './costmodel/profile.js';
export { price, priceCpu, priceDisk, priceRoundTrip, messageUs, CPU_PARTS, type Modelled, type CpuPart } from './costmodel/price.js';
export { calibrate, checkModel, type CalibrateOptions, type CheckOptions, type CheckRow } from './costmodel/calibrate.js';
