// The placement decision of one request: the prompt's chunk keys, the longest
// prefix each worker holds (from the index), the policy's choice among the
// workers given, and the speculative record of that choice in the index. The
// router, bench:router and `chunkmesh replay` all place through this one
// function, so what they measure is what the router does.
import type { ClusterConstants } from '@chunkmesh/common';
import { chunkKeys } from '@chunkmesh/native';
import type {
  Placement,
  PlacementPolicy,
  PlacementRequest,
  PrefixMatches,
  WorkerView,
} from './placement-policy.ts';

/** Where decide() reads cached prefixes and records its choice: the ClusterIndex, or the replayer's. */
export interface PlacementIndex {
  /** workerId -> its match for each worker holding keys[0..n), n >= 1 (n and the tiers of those chunks). */
  longestPrefix(keys: BigUint64Array): PrefixMatches;
  /** Counts keys as held by workerId for ttlMs, before its events confirm them. */
  speculate(workerId: string, keys: BigUint64Array, ttlMs: number): void;
}

export interface DecideOptions {
  /** The key space: chunk keys are computed as the workers placed on compute them. */
  constants: ClusterConstants;
  policy: PlacementPolicy;
  index: PlacementIndex;
  speculationTtlMs: number;
}

export interface DecisionRequest {
  promptTokens: ArrayLike<number>;
  /** The chunk-key salt. */
  tenant: string;
  /** Worker that served this session last, if any. */
  sessionWorker?: string | undefined;
}

export interface Decision<W extends WorkerView> extends Placement {
  worker: W;
}

/** The steps of a decision, in order, as reported to decide()'s onStage (bench:router times them). */
export type DecisionStage = 'keys' | 'lookup' | 'policy' | 'speculate';

/**
 * Where decide() makes a prompt's chunk keys: decide is synchronous and nothing it calls keeps the
 * keys (the index copies what it records), so one buffer serves every decision. Grown as needed.
 */
let keyScratch = new BigUint64Array(256);

/** Places one request on one of `workers` (never empty): the compatible live workers the caller may use. */
export function decide<W extends WorkerView>(
  o: DecideOptions,
  request: DecisionRequest,
  workers: readonly W[],
  onStage?: (done: DecisionStage) => void,
): Decision<W> {
  const { modelId, chunkTokens } = o.constants;
  const chunks = Math.floor(request.promptTokens.length / chunkTokens);
  if (keyScratch.length < chunks) keyScratch = new BigUint64Array(Math.max(chunks, 2 * keyScratch.length));
  const keys = chunkKeys({ modelId, chunkTokens, salt: request.tenant }, request.promptTokens, keyScratch);
  onStage?.('keys');
  const matched = o.index.longestPrefix(keys);
  onStage?.('lookup');
  const placementRequest: PlacementRequest = {
    promptTokens: request.promptTokens.length,
    chunkKeys: keys,
    chunkTokens,
  };
  if (request.sessionWorker !== undefined) placementRequest.sessionWorker = request.sessionWorker;
  const placement = o.policy.choose(placementRequest, workers, matched);
  const worker = workers.find((w) => w.workerId === placement.workerId);
  if (!worker) throw new Error(`policy ${o.policy.name} chose unknown worker ${placement.workerId}`);
  onStage?.('policy');
  // Only the keys past what the worker is already matched with (confirmed, or guessed by an earlier
  // decision whose guess still stands) are new guesses: re-guessing a held prefix would cost a
  // lookup per key and fill the bounded speculation table with keys the chunk table already has.
  // A guess is therefore not extended by later requests; it lasts its TTL, by which time the
  // worker's events have confirmed it.
  const held = matched.get(worker.workerId)?.chunks ?? 0;
  if (held < keys.length) o.index.speculate(worker.workerId, keys.subarray(held), o.speculationTtlMs);
  onStage?.('speculate');
  return { ...placement, worker };
}
