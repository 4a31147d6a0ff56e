// Replays a trace through the router's placement decision (decide) against
// simulated workers (with host and disk tiers when asked), and the same trace
// through one pooled cache of the cluster's whole device capacity with no load
// limit: the upper bound on device-only prefix hits.
import { type DecideOptions, decide } from '../placement/decide.ts';
import type { PlacementPolicy } from '../placement/placement-policy.ts';
import { type TraceRequest, traceTokens } from './mooncake-trace.ts';
import { ReplayIndex } from './replay-index.ts';
import { REPLAY_MODEL_ID, type ServiceRates, SimulatedWorker, type TierModel } from './simulated-worker.ts';

export interface ReplayOptions {
  workers: number;
  capacityTokensPerWorker: number;
  chunkTokens: number;
  rates: ServiceRates;
  /** Host and disk tiers under each worker's device pool; absent: device only. */
  tiers?: TierModel;
  /** Arrival times are divided by this. */
  speedup: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ReplayResult {
  policy: string;
  requests: number;
  promptTokens: number;
  hitTokens: number;
  hitRate: number;
  /** Hit tokens by the tier they were found in (host and disk hits are restored, then promoted). */
  hitTokensByTier: { device: number; host: number; disk: number };
  /** max / mean of per-worker busy time */
  loadImbalance: number;
  meanQueueSeconds: number;
  p99QueueSeconds: number;
  decisionsByReason: Record<string, number>;
}

export function replay(
  trace: readonly TraceRequest[],
  policy: PlacementPolicy,
  o: ReplayOptions,
): ReplayResult {
  const workers = Array.from(
    { length: o.workers },
    (_, i) =>
      new SimulatedWorker(
        `w${String(i).padStart(3, '0')}`,
        o.capacityTokensPerWorker,
        o.chunkTokens,
        o.rates,
        o.tiers,
      ),
  );
  const index = new ReplayIndex();
  const placement: DecideOptions = {
    constants: { modelId: REPLAY_MODEL_ID, chunkTokens: o.chunkTokens },
    policy,
    index,
    speculationTtlMs: 0,
  };
  const waits: number[] = [];
  const reasons: Record<string, number> = {};
  let promptTokens = 0;
  let hitTokens = 0;
  const byTier = { device: 0, host: 0, disk: 0 };
  trace.forEach((req, i) => {
    const t = req.timestampMs / 1000 / o.speedup;
    const tokens = traceTokens(req);
    const views = workers.map((w) => ({ workerId: w.id, load: w.load(t), simulated: w }));
    const d = decide(placement, { promptTokens: tokens, tenant: '' }, views);
    reasons[d.reason] = (reasons[d.reason] ?? 0) + 1;
    const served = d.worker.simulated.serve(t, tokens, req.outputLength);
    index.update(d.worker.simulated);
    promptTokens += tokens.length;
    hitTokens += served.cachedTokens;
    byTier.host += served.hostTokens;
    byTier.disk += served.diskTokens;
    byTier.device += served.cachedTokens - served.hostTokens - served.diskTokens;
    waits.push(served.start - t);
    if (o.onProgress && (i % 200 === 0 || i === trace.length - 1)) o.onProgress(i + 1, trace.length);
  });
  const busy = workers.map((w) => w.busySeconds);
  const meanBusy = busy.reduce((a, b) => a + b, 0) / busy.length;
  waits.sort((a, b) => a - b);
  return {
    policy: policy.name,
    requests: trace.length,
    promptTokens,
    hitTokens,
    hitRate: hitTokens / promptTokens,
    hitTokensByTier: byTier,
    loadImbalance: meanBusy > 0 ? Math.max(...busy) / meanBusy : 1,
    meanQueueSeconds: waits.reduce((a, b) => a + b, 0) / Math.max(1, waits.length),
    p99QueueSeconds: waits[Math.min(waits.length - 1, Math.floor(0.99 * waits.length))] ?? 0,
    decisionsByReason: reasons,
  };
}

/** One cache with the cluster's total capacity and no load limit. */
export function pooledUpperBound(
  trace: readonly TraceRequest[],
  o: ReplayOptions,
): { hitTokens: number; hitRate: number } {
  const pool = new SimulatedWorker('pooled', o.capacityTokensPerWorker * o.workers, o.chunkTokens, o.rates);
  let prompt = 0;
  let hits = 0;
  for (const req of trace) {
    const tokens = traceTokens(req);
    prompt += tokens.length;
    hits += pool.insert(tokens);
  }
  return { hitTokens: hits, hitRate: hits / prompt };
}
