// The default policy: the cost of sending a request to worker w is the work
// it would queue there, in tokens:
//
//   cost(w) = prompt tokens - cached(w) + loadWeight * (queued + running tokens on w)
//   cached(w) = chunkTokens * (device chunks + tierWeights.host * host chunks
//                              + tierWeights.disk * disk chunks of the prefix w holds)
//
// Cached tokens are prefill that need not run; a chunk on the host or disk
// must be restored first (a copy, or a read from SSD), so it saves less than
// one already on the device. Pending tokens are work the request waits behind. The balance guard keeps a hot prefix from piling onto
// one worker: a worker whose pending tokens exceed
//   guardFactor * mean pending + guardSlackTokens
// is only chosen when every worker is over that line. Session affinity sends
// a multi-turn request back to its last worker unless that worker is over the
// guard line. Ties go to the lower worker id, so replicas agree.
import { ConfigError } from '@chunkmesh/common';
import {
  type Placement,
  type PlacementPolicy,
  type PlacementRequest,
  type PrefixMatches,
  pendingTokens,
  type WorkerView,
} from './placement-policy.ts';

/** What a cached chunk in each tier is worth, relative to prefill of its tokens avoided outright. */
export interface TierWeights {
  device: number;
  host: number;
  disk: number;
}

export interface PrefixAwareOptions {
  loadWeight: number;
  guardFactor: number;
  guardSlackTokens: number;
  tierWeights: TierWeights;
}

/** Each weight in [0, 1] and device >= host >= disk: a slower tier never counts for more. */
export function checkTierWeights(w: TierWeights): TierWeights {
  for (const [tier, v] of Object.entries(w)) {
    if (!(v >= 0 && v <= 1)) throw new ConfigError(`tier weight ${tier} must be in [0, 1], got ${v}`);
  }
  if (!(w.device >= w.host && w.host >= w.disk)) {
    throw new ConfigError(
      `tier weights must not rise down the tiers (device >= host >= disk), got device ${w.device}, host ${w.host}, disk ${w.disk}`,
    );
  }
  return w;
}

// Tuned on the Mooncake conversation trace (npm run replay): a pending token
// weighs 0.15 of an uncached prompt token because much of a queued prompt is
// itself cached and decode work is batched; the guard's slack is a few long
// prompts. Sweep: loadWeight 1 reaches 77% of the pooled hit rate, 0.15 93%,
// all with max/mean busy time <= 1.06.
// Tier weights: the starting point (host 0.75, disk 0.25), kept after a replay sweep
// (README, "Capacity planning").
export const DEFAULT_PREFIX_AWARE: PrefixAwareOptions = {
  loadWeight: 0.15,
  guardFactor: 1.25,
  guardSlackTokens: 50_000,
  tierWeights: { device: 1, host: 0.75, disk: 0.25 },
};

export class PrefixAwarePolicy implements PlacementPolicy {
  readonly name = 'prefix-aware';

  // Per-worker scratch of one choose() call (calls never overlap: choose is synchronous), kept
  // between calls so a decision allocates nothing but its answer.
  private pending = new Float64Array(0);
  /** Cached tokens weighted by tier: what the cost counts. */
  private cached = new Float64Array(0);
  /** Cached tokens as held: what the decision predicts the worker will find. */
  private held = new Float64Array(0);

  constructor(private readonly options: PrefixAwareOptions = DEFAULT_PREFIX_AWARE) {
    checkTierWeights(options.tierWeights);
  }

  choose(request: PlacementRequest, workers: readonly WorkerView[], matched: PrefixMatches): Placement {
    // One pass for what every later step reads: each worker's pending and cached tokens.
    const n = workers.length;
    if (this.pending.length < n) {
      this.pending = new Float64Array(n);
      this.cached = new Float64Array(n);
      this.held = new Float64Array(n);
    }
    const { pending, cached, held } = this;
    const weights = this.options.tierWeights;
    const anyMatched = matched.size > 0;
    let sum = 0;
    let bestOverall = -Infinity;
    for (let i = 0; i < n; i++) {
      const w = workers[i] as WorkerView;
      const p = pendingTokens(w);
      pending[i] = p;
      sum += p;
      const m = anyMatched ? matched.get(w.workerId) : undefined;
      let c = 0;
      held[i] = 0;
      if (m !== undefined) {
        const chunks = m.device * weights.device + m.host * weights.host + m.disk * weights.disk;
        c = Math.min(request.promptTokens, chunks * request.chunkTokens);
        held[i] = Math.min(request.promptTokens, m.chunks * request.chunkTokens);
      }
      cached[i] = c;
      if (c > bestOverall) bestOverall = c;
    }
    const line = this.options.guardFactor * (sum / n) + this.options.guardSlackTokens;
    // The pool: workers under the guard line, or all of them when none is.
    let underGuard = 0;
    for (let i = 0; i < n; i++) if ((pending[i] as number) <= line) underGuard++;
    const guarded = underGuard > 0;
    const inPool = (i: number) => !guarded || (pending[i] as number) <= line;

    if (request.sessionWorker !== undefined) {
      for (let i = 0; i < n; i++) {
        const w = workers[i] as WorkerView;
        if (w.workerId === request.sessionWorker && inPool(i))
          return { workerId: w.workerId, reason: 'session', predictedCachedTokens: held[i] as number };
      }
    }
    let best = -1;
    let bestCost = Infinity;
    for (let i = 0; i < n; i++) {
      if (!inPool(i)) continue;
      if (best < 0) best = i;
      const cost =
        request.promptTokens - (cached[i] as number) + this.options.loadWeight * (pending[i] as number);
      if (
        cost < bestCost ||
        (cost === bestCost && (workers[i] as WorkerView).workerId < (workers[best] as WorkerView).workerId)
      ) {
        best = i;
        bestCost = cost;
      }
    }
    const bestCached = cached[best] as number;
    // 'guard' only when every worker holding the longest prefix was over the line: choosing a
    // shorter prefix for less load among workers the guard allowed is the cost's own decision.
    let holderAllowed = false;
    for (let i = 0; i < n && !holderAllowed; i++) holderAllowed = cached[i] === bestOverall && inPool(i);
    const reason =
      bestCached < bestOverall && !holderAllowed ? 'guard' : (held[best] as number) > 0 ? 'prefix' : 'load';
    return {
      workerId: (workers[best] as WorkerView).workerId,
      reason,
      predictedCachedTokens: held[best] as number,
    };
  }
}
