// The control plane on BullMQ as a library: job names and payloads, the
// client that adds and reads jobs (CLI, router admin endpoints, tests), and
// the runner process. Loads no native code.

export type { JobsRedis } from './connection.ts';
export {
  type AddResult,
  JOB_ATTEMPTS,
  JobClient,
  type JobClientOptions,
  type JobView,
} from './job-client.ts';
export { jobIdOf } from './job-id.ts';
export {
  CONTROL_QUEUE,
  JOB_NAMES,
  type JobName,
  OPERATOR_JOBS,
  type OperatorJob,
  workerQueue,
} from './job-names.ts';
export {
  type DrainPayload,
  JobPayloadError,
  type MigratePayload,
  type PrefillPayload,
  type PrewarmPayload,
  type PromptPayload,
  type ReconcilePayload,
  type RestorePayload,
  type SpillPayload,
  validatePayload,
} from './payloads.ts';
export { reportedTiers } from './resident-keys.ts';
export { JobMetrics } from './runner/job-metrics.ts';
export type { DrainResult, MigrateResult, PrefillResult, PrewarmResult } from './runner/processors.ts';
export type { ReconcileResult, WorkerReconcile } from './runner/reconcile.ts';
export { RUNNER_PROGRAM, runJobRunner } from './runner/run-process.ts';
export type { TierMoveResult } from './runner/tier-moves.ts';
