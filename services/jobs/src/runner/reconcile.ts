// index.reconcile: each live worker's report in Redis (snapshot + events, as
// routers read it: resident-keys.ts) against the keys its native tree holds
// now (WorkerControl.ResidentKeys). A key the tree holds in a tier where the
// report does not is missing; one the report holds in a tier where the tree
// does not is stale. A difference is repaired by the worker rewriting its
// report (ResidentKeys with resync), which is idempotent and safe under load.
//
// The tree changes between the two reads (events wait up to a step and a
// flush before they reach Redis), so a difference counts only when it is
// still there after settleMs: a busy worker is not resynced for its lag.
import { setTimeout as sleep } from 'node:timers/promises';
import { KV_TIERS, type ResidentKeysResponse, type WorkerRecord } from '@chunkmesh/common';
import type { Job } from 'bullmq';
import { validatePayload } from '../payloads.ts';
import { liveWorkers } from '../registry.ts';
import { reportedTiers, type Tier } from '../resident-keys.ts';
import { unary } from '../worker-controls.ts';
import { JobFailure } from './failure.ts';
import type { ProcessorContext } from './processor-context.ts';

export type TierCounts = Record<Tier, number>;

export interface WorkerReconcile {
  workerId: string;
  epoch: string;
  /** Keys the tree holds in a tier the report does not say. */
  missing: TierCounts;
  /** Keys the report says in a tier the tree does not hold them in. */
  stale: TierCounts;
  /** The worker rewrote its report (there was a difference to fix). */
  resynced: boolean;
}

export interface ReconcileResult {
  workers: WorkerReconcile[];
  /** Missing and stale keys fixed, over every worker and tier (0: Redis matched every tree). */
  fixed: number;
}

/** One difference: kind, tier and key, as a string so two reads' differences intersect as sets. */
type Difference = `${'missing' | 'stale'} ${Tier} ${string}`;

function zero(): TierCounts {
  return { device: 0, host: 0, disk: 0 };
}

function treeKeys(c: ProcessorContext, record: WorkerRecord, resync: boolean): Promise<ResidentKeysResponse> {
  const client = c.controls.of(record);
  return unary(client.residentKeys.bind(client), { resync }, c.controlTimeoutMs);
}

async function differences(
  c: ProcessorContext,
  record: WorkerRecord,
): Promise<{ live: ResidentKeysResponse; diff: Set<Difference> }> {
  const live = await treeKeys(c, record, false);
  const reported =
    (await reportedTiers(c.redis, c.cluster, record.workerId, live.epoch)) ?? new Map<bigint, Tier>();
  const diff = new Set<Difference>();
  const liveTier = new Map<string, Tier>();
  for (const t of KV_TIERS) for (const k of live[t]) liveTier.set(k, t);
  for (const [k, t] of liveTier) if (reported.get(BigInt(k)) !== t) diff.add(`missing ${t} ${k}`);
  for (const [k, t] of reported) if (liveTier.get(String(k)) !== t) diff.add(`stale ${t} ${k}`);
  return { live, diff };
}

async function reconcileWorker(c: ProcessorContext, record: WorkerRecord): Promise<WorkerReconcile> {
  const first = await differences(c, record);
  const out: WorkerReconcile = {
    workerId: record.workerId,
    epoch: first.live.epoch,
    missing: zero(),
    stale: zero(),
    resynced: false,
  };
  if (first.diff.size === 0) return out;
  await sleep(c.reconcileSettleMs);
  const second = await differences(c, record);
  if (second.live.epoch !== first.live.epoch) return out; // restarted meanwhile: a new epoch resyncs itself
  let lasting = 0;
  for (const d of first.diff) {
    if (!second.diff.has(d)) continue;
    const [kind, tier] = d.split(' ') as ['missing' | 'stale', Tier];
    out[kind][tier]++;
    lasting++;
  }
  if (lasting === 0) return out;
  await treeKeys(c, record, true);
  out.resynced = true;
  return out;
}

export async function reconcile(job: Job, c: ProcessorContext): Promise<ReconcileResult> {
  const p = validatePayload('index.reconcile', job.data);
  const live = (await liveWorkers(c.redis, c.cluster)).filter(
    (w) => p.workerId === undefined || w.workerId === p.workerId,
  );
  const workers: WorkerReconcile[] = [];
  const failed: string[] = [];
  // one worker at a time: a reconcile is background work, and bounded by one tree's keys in memory
  for (const record of live) {
    try {
      const w = await reconcileWorker(c, record);
      c.reconciled(w);
      workers.push(w);
      if (w.resynced) c.log.info('index reconciled: report resynchronised', { ...w });
    } catch (err) {
      failed.push(`${record.workerId}: ${(err as Error).message}`);
    }
  }
  if (failed.length > 0)
    throw new JobFailure(
      'worker_unavailable',
      `reconcile failed on ${failed.length} of ${live.length} workers: ${failed.join('; ')}`,
    );
  const fixed = workers.reduce((n, w) => n + KV_TIERS.reduce((m, t) => m + w.missing[t] + w.stale[t], 0), 0);
  return { workers, fixed };
}
