// The job runner: one BullMQ Worker on the control queue (several jobs at a
// time) and one per registered worker's queue (concurrency 1: jobs that touch
// one worker's KV run one after another). The per-worker Workers follow the
// registry: made for each id in the workers set, closed once it is gone (its
// queue's jobs wait there for it to come back). close() is bounded: active
// jobs get a grace period, then the connections are dropped (their jobs'
// locks lapse and another runner, or this one restarted, takes them up:
// BullMQ's stalled-job check).
import type { CertificateFiles, Logger } from '@chunkmesh/common';
import { clusterKeys } from '@chunkmesh/common';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { bullConnection, type JobsRedis } from '../connection.ts';
import { KEEP_FINISHED } from '../job-client.ts';
import { CONTROL_QUEUE, isKnownJob, jobsPrefix, RECONCILE_JOB, workerQueue } from '../job-names.ts';
import { WorkerControls } from '../worker-controls.ts';
import { asProcessorError, FinalJobFailure, failureReason, isFinal } from './failure.ts';
import { type CountedQueue, JobMetrics } from './job-metrics.ts';
import type { ProcessorContext } from './processor-context.ts';
import { type MigrateResult, PROCESSORS } from './processors.ts';

export interface JobRunnerOptions {
  redis: JobsRedis;
  /** Fail-fast connection (connectRedis) for registry and report reads. */
  registryRedis: Redis;
  cluster: string;
  clusterTls?: CertificateFiles;
  /** Control-queue jobs run at once at most. */
  controlConcurrency: number;
  /** How often the per-worker Workers catch up with the registry. */
  syncIntervalMs: number;
  prefillTimeoutMs: number;
  migrateTimeoutMs: number;
  controlTimeoutMs: number;
  reportTimeoutMs: number;
  drainTimeoutMs: number;
  /** index.reconcile's schedule; 0 removes it. */
  reconcileEveryMs: number;
  reconcileSettleMs: number;
  metrics: Registry;
  log: Logger;
}

interface Consumer {
  worker: Worker;
  queue: Queue;
}

export class JobRunner {
  private readonly prefix: string;
  private readonly controls: WorkerControls;
  private readonly context: ProcessorContext;
  private readonly consumers = new Map<string, Consumer>();
  private syncTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private readonly metrics: JobMetrics;

  constructor(private readonly o: JobRunnerOptions) {
    this.prefix = jobsPrefix(o.cluster);
    this.controls = new WorkerControls(o.clusterTls);
    this.context = {
      redis: o.registryRedis,
      cluster: o.cluster,
      controls: this.controls,
      prefillTimeoutMs: o.prefillTimeoutMs,
      migrateTimeoutMs: o.migrateTimeoutMs,
      controlTimeoutMs: o.controlTimeoutMs,
      reportTimeoutMs: o.reportTimeoutMs,
      drainTimeoutMs: o.drainTimeoutMs,
      reconcileSettleMs: o.reconcileSettleMs,
      reconciled: (w) => this.metrics.reconciled(w),
      log: o.log,
    };
    this.metrics = new JobMetrics(o.metrics, () => this.counted());
  }

  /** Starts the control consumer, index.reconcile's schedule and the first registry sync. */
  async start(): Promise<void> {
    this.consume(CONTROL_QUEUE, this.o.controlConcurrency);
    // In the background: BullMQ's commands wait out a Redis outage, and the runner must start (and
    // answer its probes) without Redis, as its registry sync does.
    this.schedule().catch((err: unknown) => {
      if (!this.closing) this.o.log.error("index.reconcile's schedule could not be set", { err });
    });
    await this.sync();
    this.syncTimer = setInterval(() => void this.sync(), this.o.syncIntervalMs);
  }

  /** Queues being consumed: control and one per registered worker. */
  queues(): string[] {
    return [...this.consumers.keys()];
  }

  /** Stops taking jobs; active ones get graceMs, then everything is dropped. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.syncTimer = null;
    const all = [...this.consumers.values()];
    this.consumers.clear();
    const closing = Promise.allSettled(all.map((c) => Promise.all([c.worker.close(), c.queue.close()])));
    const timer = setTimeout(() => {
      this.o.log.warn('jobs still active past the grace period: dropping them (they will be retried)');
      for (const c of all) {
        void c.worker.close(true).catch(() => undefined);
        void c.queue.disconnect().catch(() => undefined);
      }
    }, graceMs);
    await closing;
    clearTimeout(timer);
    this.controls.closeAll();
  }

  /**
   * One job scheduler per cluster (its id is the job's name): a runner upserts it with its
   * interval, so the runner started last sets the schedule, and runners started together add one
   * job per interval between them, not one each.
   */
  private async schedule(): Promise<void> {
    const control = this.consumers.get(CONTROL_QUEUE)?.queue as Queue;
    if (this.o.reconcileEveryMs === 0) {
      await control.removeJobScheduler(RECONCILE_JOB);
      return;
    }
    await control.upsertJobScheduler(
      RECONCILE_JOB,
      { every: this.o.reconcileEveryMs },
      // the next run comes anyway: a failed one is not retried
      {
        name: RECONCILE_JOB,
        data: {},
        opts: { attempts: 1, removeOnComplete: KEEP_FINISHED, removeOnFail: KEEP_FINISHED },
      },
    );
  }

  private counted(): CountedQueue[] {
    return [...this.consumers.entries()].map(([name, c]) => ({
      kind: name === CONTROL_QUEUE ? 'control' : 'worker',
      getJobCounts: (...states: string[]) =>
        c.queue.getJobCounts(...(states as Parameters<Queue['getJobCounts']>)),
    }));
  }

  private consume(name: string, concurrency: number): void {
    const processor = async (job: Job) => {
      if (!isKnownJob(job.name))
        throw new FinalJobFailure('invalid_payload', `invalid payload: unknown job ${job.name}`);
      try {
        return await PROCESSORS[job.name](job, this.context);
      } catch (err) {
        throw asProcessorError(err);
      }
    };
    const worker = new Worker(name, processor, {
      connection: bullConnection(this.o.redis, `jobs/${name}`),
      prefix: this.prefix,
      concurrency,
      // a processor that loses its lock (a long stall) is taken up again once, then failed
      maxStalledCount: 1,
    });
    worker.on('completed', (job) => {
      this.metrics.finished(job.name, seconds(job));
      if (job.name === 'kv.migrate') this.metrics.migrated((job.returnvalue as MigrateResult).bytes);
      this.o.log.info('job completed', { id: job.id, name: job.name, queue: name });
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      const reason = failureReason(err);
      this.metrics.finished(job.name, seconds(job), reason);
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || isFinal(err);
      this.o.log.warn(final ? 'job failed' : 'job attempt failed; retrying', {
        id: job.id,
        name: job.name,
        queue: name,
        attempt: job.attemptsMade,
        reason,
        error: err.message,
      });
    });
    // connection errors are retried by the connection itself; say so at debug level only
    worker.on('error', (err) => this.o.log.debug('job worker error', { queue: name, error: err.message }));
    const queue = new Queue(name, {
      connection: bullConnection(this.o.redis, `jobs/${name}/counts`),
      prefix: this.prefix,
    });
    this.consumers.set(name, { worker, queue });
  }

  /** One consumer per id in the registry's workers set; those of ids gone are closed. */
  private async sync(): Promise<void> {
    let ids: string[];
    try {
      ids = await this.o.registryRedis.smembers(clusterKeys(this.o.cluster).workers);
    } catch (err) {
      this.o.log.debug('registry read failed; keeping the worker queues as they are', {
        error: (err as Error).message,
      });
      return;
    }
    if (this.closing) return;
    const want = new Set(ids.map(workerQueue));
    for (const q of want) if (!this.consumers.has(q)) this.consume(q, 1);
    for (const [q, c] of this.consumers)
      if (q !== CONTROL_QUEUE && !want.has(q)) {
        this.consumers.delete(q);
        void Promise.allSettled([c.worker.close(), c.queue.close()]);
      }
    this.controls.retain(new Set(ids));
  }
}

function seconds(job: Job): number {
  return job.processedOn && job.finishedOn ? Math.max(0, job.finishedOn - job.processedOn) / 1e3 : 0;
}
