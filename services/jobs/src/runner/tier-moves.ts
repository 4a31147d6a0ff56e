// kv.spill / kv.restore: one worker moves a cached prompt's chunks down the
// tiers (WorkerControl.Spill) or up to the device (Restore). The job is done
// once the worker's reported keys (what routers read) show each chunk the
// call left in the tier asked for there. A worker without a host tier
// answers FAILED_PRECONDITION: the job fails at once ('unsupported'), as a
// retry cannot help. Both are idempotent: a second spill finds nothing left
// to move, a second restore finds the chunks on the device.
import type { TierMoveResponse } from '@chunkmesh/common';
import { status } from '@grpc/grpc-js';
import type { Job } from 'bullmq';
import { type RestorePayload, type SpillPayload, validatePayload } from '../payloads.ts';
import { workerRecord } from '../registry.ts';
import type { Tier } from '../resident-keys.ts';
import { unary } from '../worker-controls.ts';
import { FinalJobFailure, JobFailure } from './failure.ts';
import { type ProcessorContext, promptFields, reported } from './processor-context.ts';

export interface TierMoveResult {
  workerId: string;
  epoch: string;
  /** Where the chunks were asked to go. */
  tier: Tier;
  promptTokens: number;
  /** The prompt's full chunks the worker's tree held, on any tier. */
  matchedTokens: number;
  movedTokens: number;
  /** Could not move: pinned by a running request, under a longer cached prefix, or no room. */
  stayedTokens: number;
  /** Chunks in `tier` now, each verified in the worker's reported keys. */
  chunks: number;
}

async function move(
  c: ProcessorContext,
  p: SpillPayload | RestorePayload,
  tier: Tier,
): Promise<TierMoveResult> {
  const record = await workerRecord(c.redis, c.cluster, p.workerId);
  if (!record) throw new JobFailure('worker_unavailable', `worker ${p.workerId} is not live`);
  const client = c.controls.of(record);
  const call = tier === 'device' ? client.restore.bind(client) : client.spill.bind(client);
  let res: TierMoveResponse;
  try {
    res = await unary(
      call,
      { ...promptFields(p.prompt), tenant: p.tenant, tier: tier === 'device' ? '' : tier },
      c.controlTimeoutMs,
    );
  } catch (err) {
    if ((err as { code?: unknown }).code === status.FAILED_PRECONDITION)
      throw new FinalJobFailure(
        'unsupported',
        `unsupported: worker ${p.workerId}: ${(err as { details?: string }).details}`,
      );
    throw err;
  }
  await reported(c, p.workerId, res.epoch, res.chunkKeys, 'moved the chunks', tier);
  return {
    workerId: p.workerId,
    epoch: res.epoch,
    tier,
    promptTokens: res.promptTokens,
    matchedTokens: res.matchedTokens,
    movedTokens: res.movedTokens,
    stayedTokens: res.stayedTokens,
    chunks: res.chunkKeys.length,
  };
}

export function spill(job: Job, c: ProcessorContext): Promise<TierMoveResult> {
  const p = validatePayload('kv.spill', job.data);
  return move(c, p, p.tier);
}

export function restore(job: Job, c: ProcessorContext): Promise<TierMoveResult> {
  return move(c, validatePayload('kv.restore', job.data), 'device');
}
