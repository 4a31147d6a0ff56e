// What each job does. Processors are idempotent (BullMQ delivers at least
// once: a retry, or a job whose lock lapsed, runs again): a second prefill
// finds the prompt cached and computes nothing; a second drain finds the entry
// draining or gone and only waits; a second migration finds the chunks cached
// on the target and imports nothing.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import type { JobName } from '../job-names.ts';
import { validatePayload } from '../payloads.ts';
import { workerRecord } from '../registry.ts';
import { unary } from '../worker-controls.ts';
import { JobFailure } from './failure.ts';
import { type ProcessorContext, promptFields, reported } from './processor-context.ts';
import { reconcile } from './reconcile.ts';
import { restore, spill } from './tier-moves.ts';

/** How often a drain reads the worker's registry entry while waiting for it to go. */
const DRAIN_POLL_MS = 200;

export interface PrefillResult {
  workerId: string;
  epoch: string;
  promptTokens: number;
  /** Tokens the worker had cached before (a repeat finds them all). */
  cachedTokens: number;
  /** Full chunks of the prompt, each verified in the worker's reported keys. */
  chunks: number;
}

export interface PrewarmResult {
  workers: PrefillResult[];
}

export interface DrainResult {
  workerId: string;
  /** Requests queued or running when the drain began; absent when a previous attempt had begun it. */
  inFlight?: number;
  /** The entry was gone (deregistered) when the job ended. */
  deregistered: true;
}

export interface MigrateResult {
  source: string;
  target: string;
  /** The target's incarnation that holds the chunks. */
  epoch: string;
  promptTokens: number;
  /** Whole chunks moved, each verified in the target's reported keys. */
  chunks: number;
  /** Tokens of those chunks the target did not hold before (a repeat: 0). */
  importedTokens: number;
  /** KV bytes that crossed from source to target. */
  bytes: number;
}

async function prefill(job: Job, c: ProcessorContext): Promise<PrefillResult> {
  const p = validatePayload('prefix.prefill', job.data);
  const record = await workerRecord(c.redis, c.cluster, p.workerId);
  if (!record) throw new JobFailure('worker_unavailable', `worker ${p.workerId} is not live`);
  const client = c.controls.of(record);
  const res = await unary(
    client.prefill.bind(client),
    { ...promptFields(p.prompt), tenant: p.tenant, requestId: job.id ?? '' },
    c.prefillTimeoutMs,
  );
  await reported(c, p.workerId, res.epoch, res.chunkKeys, 'prefilled the prompt');
  return {
    workerId: p.workerId,
    epoch: res.epoch,
    promptTokens: res.promptTokens,
    cachedTokens: res.cachedTokens,
    chunks: res.chunkKeys.length,
  };
}

/** The target pulls the prefix from the source over gRPC (WorkerControl.PullPrefix); KV never passes through here. */
async function migrate(job: Job, c: ProcessorContext): Promise<MigrateResult> {
  const p = validatePayload('kv.migrate', job.data);
  const [source, target] = await Promise.all(
    [p.source, p.target].map((w) => workerRecord(c.redis, c.cluster, w)),
  );
  if (!source) throw new JobFailure('worker_unavailable', `source worker ${p.source} is not live`);
  if (!target) throw new JobFailure('worker_unavailable', `target worker ${p.target} is not live`);
  const client = c.controls.of(target);
  const res = await unary(
    client.pullPrefix.bind(client),
    {
      ...promptFields(p.prompt),
      tenant: p.tenant,
      requestId: job.id ?? '',
      sourceEndpoint: source.endpoint,
      sourceWorkerId: source.workerId,
      maxBytes: '0',
    },
    c.migrateTimeoutMs,
  );
  await reported(c, p.target, res.epoch, res.chunkKeys, 'imported the prefix');
  return {
    source: p.source,
    target: p.target,
    epoch: res.epoch,
    promptTokens: res.promptTokens,
    chunks: res.chunkKeys.length,
    importedTokens: res.importedTokens,
    bytes: Number(res.bytes),
  };
}

async function prewarm(job: Job): Promise<PrewarmResult> {
  const p = validatePayload('prefix.prewarm', job.data);
  // Runs once every child completed (a child failing for good fails this job instead).
  const values = Object.values(await job.getChildrenValues()) as PrefillResult[];
  const byWorker = new Map(values.map((v) => [v.workerId, v]));
  const missing = p.workers.filter((w) => !byWorker.has(w));
  if (missing.length > 0) throw new JobFailure('error', `no prefill result from ${missing.join(', ')}`);
  return { workers: p.workers.map((w) => byWorker.get(w) as PrefillResult) };
}

async function drain(job: Job, c: ProcessorContext): Promise<DrainResult> {
  const p = validatePayload('worker.drain', job.data);
  let record = await workerRecord(c.redis, c.cluster, p.workerId);
  let inFlight: number | undefined;
  if (record?.epoch === p.epoch && !record.draining) {
    const client = c.controls.of(record);
    const res = await unary(client.drain.bind(client), { graceMs: p.graceMs ?? 0 }, c.controlTimeoutMs);
    inFlight = res.inFlight;
  }
  // The worker finishes its requests, deregisters and exits; wait for its entry to go.
  const deadline = Date.now() + (p.graceMs ?? 0) + c.drainTimeoutMs;
  while (record?.epoch === p.epoch) {
    if (Date.now() > deadline)
      throw new JobFailure(
        'timeout',
        `worker ${p.workerId} is still registered ${c.drainTimeoutMs} ms past its grace`,
      );
    await sleep(DRAIN_POLL_MS);
    record = await workerRecord(c.redis, c.cluster, p.workerId);
  }
  return { workerId: p.workerId, ...(inFlight !== undefined ? { inFlight } : {}), deregistered: true };
}

export const PROCESSORS: Record<JobName, (job: Job, c: ProcessorContext) => Promise<unknown>> = {
  'prefix.prefill': prefill,
  'prefix.prewarm': prewarm,
  'worker.drain': drain,
  'kv.migrate': migrate,
  'index.reconcile': reconcile,
  'kv.spill': spill,
  'kv.restore': restore,
};
