// What every processor gets (ProcessorContext) and what several share: a
// prompt payload as WorkerControl's request fields, and the wait for a
// worker's report to show the chunks a call made or moved. Its own module so
// that the processors' modules (processors.ts, tier-moves.ts, reconcile.ts)
// import it, not each other.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@chunkmesh/common';
import type { Redis } from 'ioredis';
import type { PromptPayload } from '../payloads.ts';
import { reportedTiers, type Tier } from '../resident-keys.ts';
import type { WorkerControls } from '../worker-controls.ts';
import { JobFailure } from './failure.ts';
import type { WorkerReconcile } from './reconcile.ts';

export interface ProcessorContext {
  /** Fail-fast connection for registry and report reads (connectRedis). */
  redis: Redis;
  cluster: string;
  controls: WorkerControls;
  /** Longest a Prefill call may take. */
  prefillTimeoutMs: number;
  /** Longest a PullPrefix call (the source's stream and the import) may take. */
  migrateTimeoutMs: number;
  /** Longest a Drain, Spill, Restore or ResidentKeys call may take. */
  controlTimeoutMs: number;
  /** Longest a worker may take to report a prefill's (or an import's) chunks to Redis. */
  reportTimeoutMs: number;
  /** Longest a drained worker may take to deregister, beyond its grace period. */
  drainTimeoutMs: number;
  /** How long a difference between a worker's report and its tree must last to be repaired. */
  reconcileSettleMs: number;
  /** Counts a worker's reconcile in the metrics. */
  reconciled(w: WorkerReconcile): void;
  log: Logger;
}

const POLL_MS = 50;

/** A prompt payload as WorkerControl's request fields. */
export function promptFields(p: PromptPayload) {
  if ('text' in p) return { text: p.text };
  if ('tokenIds' in p) return { tokenIds: { ids: p.tokenIds } };
  return { messages: p.messages };
}

/**
 * Resolves once the worker's reported tree (what routers read) holds every key (in `tier`, when
 * given; on any tier otherwise); JobFailure past the report timeout.
 */
export async function reported(
  c: ProcessorContext,
  workerId: string,
  epoch: string,
  chunkKeys: readonly string[],
  did: string,
  tier?: Tier,
): Promise<void> {
  const want = chunkKeys.map((k) => BigInt(k));
  const deadline = Date.now() + c.reportTimeoutMs;
  for (;;) {
    const have = await reportedTiers(c.redis, c.cluster, workerId, epoch);
    const held = (k: bigint) => (tier === undefined ? have?.has(k) : have?.get(k) === tier);
    const missing = want.filter((k) => !held(k)).length;
    if (missing === 0) return;
    if (Date.now() > deadline)
      throw new JobFailure(
        'not_reported',
        `worker ${workerId} ${did} but has not reported ${missing} of its ${want.length} chunks${tier ? ` in ${tier}` : ''}`,
      );
    await sleep(POLL_MS);
  }
}
