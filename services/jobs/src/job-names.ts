// What the control plane runs, and where (ARCHITECTURE.md, "The control
// plane"). Jobs carry ids, keys and addresses, never KV bytes.
//
//   queue control          cluster-wide jobs, any number at a time:
//                          prefix.prewarm (the parent of a flow), worker.drain,
//                          kv.migrate (the target's engine runs its import
//                          between steps, one owner-thread job, so migrations
//                          need no queue of their own to be serialized)
//                          index.reconcile (added by a job scheduler, job-runner.ts),
//                          kv.spill, kv.restore (one worker's native calls
//                          serialise on its cache's owner thread anyway)
//   queue worker-<id>      jobs that touch one worker's KV, one at a time
//                          (concurrency 1): prefix.prefill (a prewarm's child)
//
// Every queue's keys live under cm:{<cluster>}:jobs:<queue>:..., in the
// cluster's hash slot (redis-keys.ts), so BullMQ's scripts run on Redis
// Cluster too.
import { checkName } from '@chunkmesh/common';

export const JOB_NAMES = [
  'prefix.prewarm',
  'prefix.prefill',
  'worker.drain',
  'kv.migrate',
  'index.reconcile',
  'kv.spill',
  'kv.restore',
] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** The job a scheduler adds (its runs' ids are repeat:index.reconcile:<time>). */
export const RECONCILE_JOB: JobName = 'index.reconcile';
export function isKnownJob(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

/** The jobs an operator adds (prefix.prefill is added by a prewarm's flow only). */
export const OPERATOR_JOBS = [
  'prefix.prewarm',
  'worker.drain',
  'kv.migrate',
  'kv.spill',
  'kv.restore',
] as const;
export type OperatorJob = (typeof OPERATOR_JOBS)[number];

export const CONTROL_QUEUE = 'control';

export function workerQueue(workerId: string): string {
  return `worker-${checkName('worker', workerId)}`;
}

/** The worker a per-worker queue serves; undefined for the control queue. */
export function workerOfQueue(queue: string): string | undefined {
  return queue.startsWith('worker-') ? queue.slice('worker-'.length) : undefined;
}

/** BullMQ's key prefix for a cluster's queues. */
export function jobsPrefix(cluster: string): string {
  return `cm:{${checkName('cluster', cluster)}}:jobs`;
}
