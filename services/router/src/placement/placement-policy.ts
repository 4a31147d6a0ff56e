// What every placement policy sees and returns. Policies are pure: the same
// request, workers and matches give the same choice, so router replicas
// reading the same Redis state place alike, and the trace replayer runs the
// exact code the router runs.
import type { WorkerLoad } from '@chunkmesh/common';

/**
 * A worker as policies see it. The cluster index's live workers are views as they are (nothing is
 * copied per decision); the replayer's simulated workers make their own.
 */
export interface WorkerView {
  readonly workerId: string;
  readonly load: WorkerLoad;
}

export interface PlacementRequest {
  promptTokens: number;
  /** Keys of the prompt's full chunks, in order. */
  chunkKeys: BigUint64Array;
  chunkTokens: number;
  /** Worker that served this session last; ignored unless it is among the workers given. */
  sessionWorker?: string;
}

/**
 * A worker's cached prefix of the prompt: its length in chunks (>= 1), and how many of those
 * chunks are in each tier of the worker (device + host + disk = chunks).
 */
export interface PrefixMatch {
  chunks: number;
  device: number;
  host: number;
  disk: number;
}

/**
 * Each worker's cached prefix of one prompt (absent: none): what an index's longestPrefix answers
 * and policies read. A Map is one; the router's index answers with ChunkMatches.
 */
export interface PrefixMatches {
  /** Workers holding at least the prompt's first chunk. */
  readonly size: number;
  get(workerId: string): PrefixMatch | undefined;
}

export type PlacementReason =
  | 'prefix' // best cost, with a cached prefix
  | 'load' // best cost, no worker held any of the prefix
  | 'guard' // the best-matching worker was overloaded; the balance guard moved the request
  | 'session' // multi-turn affinity
  | 'round-robin'
  | 'least-loaded'
  | 'hash';

export interface Placement {
  workerId: string;
  reason: PlacementReason;
  /** Prompt tokens the index says the chosen worker holds. */
  predictedCachedTokens: number;
}

export interface PlacementPolicy {
  readonly name: string;
  /**
   * workers: live workers, never empty; matched: the prefix of the prompt's chunks each worker
   * holds (absent: none).
   */
  choose(request: PlacementRequest, workers: readonly WorkerView[], matched: PrefixMatches): Placement;
}

export function pendingTokens(w: WorkerView): number {
  return w.load.queuedTokens + w.load.runningTokens;
}
