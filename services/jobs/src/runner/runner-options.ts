// Every job runner setting, as flag and environment variable (CHUNKMESH_*), in one table.
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS, defineOptions, securityOptions } from '@chunkmesh/common';

export const runnerOptions = defineOptions({
  redisUrl: {
    type: 'string',
    default: 'redis://127.0.0.1:6379',
    help: 'Redis the workers report to and the queues live in',
  },
  redisTimeoutMs: {
    type: 'integer',
    default: DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    min: 100,
    help: 'a registry or report read without a reply after this long fails (the job is retried)',
  },
  cluster: {
    type: 'string',
    default: 'default',
    help: 'Redis namespace cm:{cluster}: (queues under cm:{cluster}:jobs:)',
  },
  host: { type: 'string', default: '0.0.0.0', help: 'address the ops port listens on' },
  opsPort: {
    type: 'integer',
    default: 9463,
    min: 0,
    help: 'operations HTTP port: /metrics, /healthz, never authenticated (0 picks a free one)',
  },
  controlConcurrency: {
    type: 'integer',
    default: 4,
    min: 1,
    help: 'control-queue jobs (prewarm, drain) run at once at most',
  },
  syncIntervalMs: {
    type: 'integer',
    default: 1000,
    min: 50,
    help: 'how often the per-worker queues catch up with the registry',
  },
  prefillTimeoutMs: {
    type: 'integer',
    default: 120_000,
    min: 100,
    help: 'longest one WorkerControl.Prefill call may take',
  },
  migrateTimeoutMs: {
    type: 'integer',
    default: 120_000,
    min: 100,
    help: 'longest one WorkerControl.PullPrefix call (the source\u2019s stream and the import) may take',
  },
  controlTimeoutMs: {
    type: 'integer',
    default: 60_000,
    min: 100,
    help: 'longest one WorkerControl Drain, Spill, Restore (a disk written or read) or ResidentKeys call may take',
  },
  reportTimeoutMs: {
    type: 'integer',
    default: 10_000,
    min: 100,
    help: 'longest a worker may take to report a prefill\u2019s chunks to Redis before the attempt fails',
  },
  drainTimeoutMs: {
    type: 'integer',
    default: 30_000,
    min: 100,
    help: 'longest a drained worker may take to deregister, beyond the drain\u2019s grace period',
  },
  reconcileEveryMs: {
    type: 'integer',
    // Off by default for a runner started by hand (local clusters, tests); the Helm chart turns it
    // on (jobs.reconcileEverySeconds). A drain under load runs with it on (the drain test does).
    default: 0,
    min: 0,
    help: 'index.reconcile runs this often (a BullMQ job scheduler on the control queue, one for the cluster: the runner started last sets it); 0 removes the schedule',
  },
  reconcileSettleMs: {
    type: 'integer',
    default: 500,
    min: 0,
    help: 'a difference between a worker\u2019s report and its tree is repaired only when it is still there after this long (reports lag the tree by a step and a flush)',
  },
  shutdownGraceMs: {
    type: 'integer',
    default: 10_000,
    min: 0,
    help: 'on SIGTERM, how long active jobs get before they are dropped (and retried by the next runner)',
  },
  ...securityOptions,
});
