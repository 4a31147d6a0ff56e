// Adds control-plane jobs and reads them back: what `chunkmesh jobs`, the
// router's admin endpoints and tests use. A request is checked (its payload
// schema), given its content-derived id (job-id.ts) and added once: the same
// request again finds the first job and adds nothing, unless that job failed
// (a migration, drain or prewarm, then asked again, runs again; a failed
// prewarm once none of its prefills still runs) or, for tier moves, finished
// at all. A prewarm is a flow:
// the prefix.prewarm parent on the control queue, one prefix.prefill child
// per target worker on that worker's queue; the parent runs once every child
// has completed, and fails if one fails for good.
import { type Logger, RedisFormatError, type WorkerRecord } from '@chunkmesh/common';
import { FlowProducer, type Job, type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullConnection, type JobsRedis } from './connection.ts';
import { childJobId, jobIdOf } from './job-id.ts';
import { CONTROL_QUEUE, jobsPrefix, type OperatorJob, RECONCILE_JOB, workerQueue } from './job-names.ts';
import { JobPayloadError, MAX_TARGET_WORKERS, type PrewarmPayload, validatePayload } from './payloads.ts';
import { leastLoaded, liveWorkers, workerRecord } from './registry.ts';

/** Retries: a worker that restarts, a Redis that fails over, a report that lags are all transient. */
export const JOB_ATTEMPTS = 5;
export const JOB_BACKOFF_MS = 1000;
/** Finished jobs are kept this long (a repeat within it is a no-op), and at most this many. */
export const KEEP_FINISHED = { age: 24 * 3600, count: 1000 };

export interface JobView {
  id: string;
  name: string;
  queue: string;
  state: string;
  attemptsMade: number;
  data: unknown;
  result?: unknown;
  failedReason?: string;
  createdAt: number;
  finishedAt?: number;
  /** A prewarm's prefills, one per worker. */
  children?: JobView[];
}

export interface AddResult {
  job: JobView;
  /** false: a job with this id was there already (the same request): nothing was added. */
  added: boolean;
}

export interface JobClientOptions {
  redis: JobsRedis;
  /** A fail-fast connection for registry reads (connectRedis). */
  registry: Redis;
  cluster: string;
  log?: Logger;
}

function jobOptions(jobId: string): JobsOptions {
  return {
    jobId,
    attempts: JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: JOB_BACKOFF_MS },
    removeOnComplete: KEEP_FINISHED,
    removeOnFail: KEEP_FINISHED,
  };
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new JobPayloadError(`${what} must be an object`);
  return v as Record<string, unknown>;
}

export class JobClient {
  private readonly prefix: string;
  private readonly control: Queue;
  private readonly flows: FlowProducer;
  /** Per-worker queues, for reading a flow's children; bounded by the workers a prewarm names. */
  private readonly workerQueues = new Map<string, Queue>();

  constructor(private readonly o: JobClientOptions) {
    this.prefix = jobsPrefix(o.cluster);
    this.control = new Queue(CONTROL_QUEUE, {
      connection: bullConnection(o.redis, 'jobs/client'),
      prefix: this.prefix,
    });
    this.flows = new FlowProducer({ connection: bullConnection(o.redis, 'jobs/flows'), prefix: this.prefix });
    this.quiet(this.control);
    this.flows.on('error', this.connectionError);
  }

  /** Connection errors are retried by the connection; callers see them as failed calls, the log at debug. */
  private readonly connectionError = (err: Error): void =>
    this.o.log?.debug('jobs connection error', { error: err.message });

  private quiet(q: Queue): void {
    q.on('error', this.connectionError);
  }

  /**
   * Adds an operator's job (JobPayloadError when the request does not fit its schema or names a
   * worker that is not live).
   *   prefix.prewarm {tenant?, prompt: {text}|{messages}|{tokenIds}, workers?: [id...] | count?: n}
   *     (neither: count 1, the least loaded worker)
   *   worker.drain {workerId, graceMs?}
   *   kv.migrate {tenant?, prompt, source, target} (both live; the target not draining)
   *   kv.spill {workerId, tenant?, prompt, tier?: host|disk}, kv.restore {workerId, tenant?, prompt}
   */
  async add(name: OperatorJob, request: unknown): Promise<AddResult> {
    if (name === 'prefix.prewarm') return this.addPrewarm(request);
    if (name === 'worker.drain') return this.addDrain(request);
    if (name === 'kv.migrate') return this.addMigrate(request);
    return this.addTierMove(name, request);
  }

  private async addMigrate(request: unknown): Promise<AddResult> {
    const payload = validatePayload('kv.migrate', request);
    const id = jobIdOf('kv.migrate', payload);
    const existing = await this.standing(id, ['failed']);
    if (existing.job) return { job: existing.job, added: false };
    const [source, target] = await Promise.all(
      [payload.source, payload.target].map((w) => workerRecord(this.o.registry, this.o.cluster, w)),
    );
    if (!source) throw new JobPayloadError(`kv.migrate: source worker ${payload.source} is not live`);
    if (!target) throw new JobPayloadError(`kv.migrate: target worker ${payload.target} is not live`);
    if (target.draining) throw new JobPayloadError(`kv.migrate: target worker ${payload.target} is draining`);
    return this.addAs(id, 'kv.migrate', payload, existing.replacing);
  }

  /**
   * A spill or restore: the same request is one job while it waits or runs; once it has finished,
   * asking again runs it again (moves are asked for over and over, unlike a prewarm).
   */
  private async addTierMove(name: 'kv.spill' | 'kv.restore', request: unknown): Promise<AddResult> {
    const payload = validatePayload(name, request);
    const record = await workerRecord(this.o.registry, this.o.cluster, payload.workerId);
    if (!record) throw new JobPayloadError(`${name}: worker ${payload.workerId} is not live`);
    const id = jobIdOf(name, payload);
    const existing = await this.standing(id, ['completed', 'failed']);
    if (existing.job) return { job: existing.job, added: false };
    return this.addAs(id, name, payload, existing.replacing);
  }

  /**
   * Whether job `id` stands for its request still: it does unless it is gone or has finished in
   * one of `rerun` (then asking again runs the request again, in a new job of the same id).
   */
  private async standing(
    id: string,
    rerun: readonly string[],
  ): Promise<{ job: JobView; replacing?: undefined } | { job?: undefined; replacing: boolean }> {
    const job = await this.get(id);
    if (job && !rerun.includes(job.state)) return { job };
    return { replacing: job !== null };
  }

  /** Adds a control-queue job as `id`, removing the finished one of that id first when replacing. */
  private async addAs(id: string, name: string, payload: object, replacing: boolean): Promise<AddResult> {
    if (replacing) await this.removeWithChildren(id);
    await this.control.add(name, payload, jobOptions(id));
    return { job: await this.mustView(id), added: true };
  }

  private async addPrewarm(request: unknown): Promise<AddResult> {
    const r = object(request, 'prefix.prewarm');
    for (const k of Object.keys(r))
      if (!['tenant', 'prompt', 'workers', 'count'].includes(k))
        throw new JobPayloadError(`prefix.prewarm.${k} is not a field of this job`);
    if (r.workers !== undefined && r.count !== undefined)
      throw new JobPayloadError('prefix.prewarm takes workers or count, not both');
    const count = r.count ?? (r.workers === undefined ? 1 : undefined);
    if (
      count !== undefined &&
      (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_TARGET_WORKERS)
    )
      throw new JobPayloadError(`prefix.prewarm.count must be an integer from 1 to ${MAX_TARGET_WORKERS}`);
    // The schema checks tenant, prompt and the worker list (a placeholder when they are to be chosen).
    const checked = validatePayload('prefix.prewarm', {
      ...(r.tenant !== undefined ? { tenant: r.tenant } : {}),
      prompt: r.prompt,
      workers: r.workers ?? ['-'],
    });
    // the order a request lists its workers in is not part of what it asks for
    const named = [...checked.workers].sort();
    const asked = {
      tenant: checked.tenant,
      prompt: checked.prompt,
      ...(count !== undefined ? { count } : { workers: named }),
    };
    const id = jobIdOf('prefix.prewarm', asked);
    const existing = await this.standing(id, ['failed']);
    if (existing.job) return { job: existing.job, added: false };

    const live = await liveWorkers(this.o.registry, this.o.cluster);
    let targets: WorkerRecord[];
    if (count !== undefined) {
      targets = leastLoaded(live, count as number);
      if (targets.length === 0) throw new JobPayloadError('prefix.prewarm: no live worker takes placements');
    } else {
      targets = named.map((w) => {
        const rec = live.find((l) => l.workerId === w);
        if (!rec) throw new JobPayloadError(`prefix.prewarm: worker ${w} is not live`);
        if (rec.draining) throw new JobPayloadError(`prefix.prewarm: worker ${w} is draining`);
        return rec;
      });
    }
    const payload: PrewarmPayload = validatePayload('prefix.prewarm', {
      tenant: checked.tenant,
      prompt: checked.prompt,
      workers: targets.map((t) => t.workerId),
    });
    // a failed prewarm goes with its prefills, once the request has passed its checks; while one
    // of them still runs, the failed prewarm stands
    if (existing.replacing && !(await this.removeWithChildren(id)))
      return { job: await this.mustView(id), added: false };
    await this.flows.add({
      name: 'prefix.prewarm',
      queueName: CONTROL_QUEUE,
      data: payload,
      opts: jobOptions(id),
      children: payload.workers.map((workerId) => ({
        name: 'prefix.prefill',
        queueName: workerQueue(workerId),
        data: validatePayload('prefix.prefill', { workerId, tenant: payload.tenant, prompt: payload.prompt }),
        // a prefill that fails for good fails its prewarm (which is then not retried, but runs
        // again when asked again)
        opts: { ...jobOptions(childJobId(id, workerId)), failParentOnFailure: true },
      })),
    });
    return { job: await this.mustView(id), added: true };
  }

  /**
   * Removes a finished control-queue job with its children (a prewarm's prefills); false (nothing
   * removed) while one of them is locked (still running). A prefill left behind would stand in for
   * a new flow's child of the same id, which would then never run.
   */
  private async removeWithChildren(id: string): Promise<boolean> {
    return (await this.control.remove(id, { removeChildren: true })) === 1;
  }

  private async addDrain(request: unknown): Promise<AddResult> {
    const r = object(request, 'worker.drain');
    if (typeof r.workerId !== 'string')
      throw new JobPayloadError('worker.drain.workerId must be a worker id');
    let record: WorkerRecord | null;
    try {
      record = await workerRecord(this.o.registry, this.o.cluster, r.workerId);
    } catch (err) {
      if (err instanceof RedisFormatError) throw new JobPayloadError(`worker.drain: ${err.message}`);
      throw err;
    }
    if (!record) throw new JobPayloadError(`worker.drain: worker ${r.workerId} is not live`);
    // one drain per incarnation: the same request for the same epoch is a repeat (unless it failed)
    const payload = validatePayload('worker.drain', { ...r, epoch: record.epoch });
    const id = jobIdOf('worker.drain', payload);
    const existing = await this.standing(id, ['failed']);
    if (existing.job) return { job: existing.job, added: false };
    return this.addAs(id, 'worker.drain', payload, existing.replacing);
  }

  /** The job with this id (on the control queue), with a prewarm's children; null when there is none. */
  async get(id: string): Promise<JobView | null> {
    // Ours carry no ':' (job-id.ts); the scheduler's runs of index.reconcile are repeat:<name>:<time>.
    if (id.includes(':') && !id.startsWith(`repeat:${RECONCILE_JOB}:`)) return null;
    return this.read(this.control, id, true);
  }

  /**
   * The state is read before the job, so the job (its result, its failure) is at least as new as
   * the state shown with it.
   */
  private async read(queue: Queue, id: string, withChildren: boolean): Promise<JobView | null> {
    const state = await queue.getJobState(id);
    if (state === 'unknown') return null;
    const job = await queue.getJob(id);
    return job ? this.view(job, state, withChildren) : null;
  }

  /** The most recent control-queue jobs, newest first. */
  async list(limit = 50): Promise<JobView[]> {
    const jobs = await this.control.getJobs(
      ['active', 'waiting', 'waiting-children', 'delayed', 'prioritized', 'completed', 'failed'],
      0,
      Math.max(0, limit - 1),
      false,
    );
    const views = await Promise.all(
      jobs.filter((j): j is Job => j !== undefined).map(async (j) => this.view(j, await j.getState(), false)),
    );
    return views.sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }

  /** Closes every connection; bounded: past timeoutMs they are dropped. */
  async close(timeoutMs = 5000): Promise<void> {
    const all = [this.control, this.flows, ...this.workerQueues.values()];
    const closing = Promise.allSettled(all.map((q) => q.close()));
    let timer: NodeJS.Timeout | undefined;
    // a close can wait for ever on a connection that never got ready (Redis refusing it)
    const dropped = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const q of all) void q.disconnect().catch(() => undefined);
        resolve();
      }, timeoutMs);
    });
    await Promise.race([closing, dropped]);
    clearTimeout(timer);
  }

  private async mustView(id: string): Promise<JobView> {
    const v = await this.get(id);
    if (!v) throw new Error(`job ${id} was added but is not there (removed at once?)`);
    return v;
  }

  private workerQueueOf(workerId: string): Queue {
    const name = workerQueue(workerId);
    let q = this.workerQueues.get(name);
    if (!q) {
      q = new Queue(name, { connection: bullConnection(this.o.redis, 'jobs/client'), prefix: this.prefix });
      this.quiet(q);
      this.workerQueues.set(name, q);
    }
    return q;
  }

  private async view(job: Job, state: string, withChildren: boolean): Promise<JobView> {
    const v: JobView = {
      id: job.id ?? '',
      name: job.name,
      queue: job.queueName,
      state,
      attemptsMade: job.attemptsMade,
      data: job.data,
      createdAt: job.timestamp,
      ...(job.returnvalue !== undefined && job.returnvalue !== null ? { result: job.returnvalue } : {}),
      ...(job.failedReason ? { failedReason: job.failedReason } : {}),
      ...(job.finishedOn ? { finishedAt: job.finishedOn } : {}),
    };
    if (withChildren && job.name === 'prefix.prewarm') {
      const workers = (job.data as PrewarmPayload).workers ?? [];
      const children = await Promise.all(
        workers.map((w) => this.read(this.workerQueueOf(w), childJobId(v.id, w), false)),
      );
      v.children = children.filter((c): c is JobView => c !== null);
    }
    return v;
  }
}
