// kv.spill / kv.restore: one worker moves a cached prompt's chunks down the
// tiers (WorkerControl.Spill) or up to the device (Restore). The job is done
// once the worker's reported keys (what routers read) show each chunk the
// call left in the tier asked for there. A worker without a host tier
// answers FAILED_PRECONDITION: the job fails at once ('unsupported'), as a
// retry cannot help. Both are idempotent: a second spill finds nothing left
// to move, a second restore finds the chunks on the device.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TierMoveResponse } from '@chunkmesh/common';
import { status } from '@grpc/grpc-js';
import { type Job, UnrecoverableError } from 'bullmq';
import { type RestorePayload, type SpillPayload, validatePayload } from '../payloads.ts';
import { workerRecord } from '../registry.ts';
import { reportedTiers, type Tier } from '../resident-keys.ts';
import { unary } from '../worker-controls.ts';
import { JobFailure } from './failure.ts';
import { type ProcessorContext, promptFields } from './processors.ts';

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

const POLL_MS = 50;

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
      c.prefillTimeoutMs,
    );
  } catch (err) {
    if ((err as { code?: unknown }).code === status.FAILED_PRECONDITION)
      throw new UnrecoverableError(
        `unsupported: worker ${p.workerId}: ${(err as { details?: string }).details}`,
      );
    throw err;
  }
  const want = res.chunkKeys.map((k) => BigInt(k));
  const deadline = Date.now() + c.reportTimeoutMs;
  for (;;) {
    const have = await reportedTiers(c.redis, c.cluster, p.workerId, res.epoch);
    const missing = want.filter((k) => have?.get(k) !== tier).length;
    if (missing === 0) break;
    if (Date.now() > deadline)
      throw new JobFailure(
        'not_reported',
        `worker ${p.workerId} moved the chunks but has not reported ${missing} of ${want.length} in ${tier}`,
      );
    await sleep(POLL_MS);
  }
  return {
    workerId: p.workerId,
    epoch: res.epoch,
    tier,
    promptTokens: res.promptTokens,
    matchedTokens: res.matchedTokens,
    movedTokens: res.movedTokens,
    stayedTokens: res.stayedTokens,
    chunks: want.length,
  };
}

export function spill(job: Job, c: ProcessorContext): Promise<TierMoveResult> {
  const p = validatePayload('kv.spill', job.data);
  return move(c, p, p.tier);
}

export function restore(job: Job, c: ProcessorContext): Promise<TierMoveResult> {
  return move(c, validatePayload('kv.restore', job.data), 'device');
}
