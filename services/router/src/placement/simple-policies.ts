// Comparison policies, selectable by flag: they ignore what workers cache
// (round-robin, least-loaded) or use it only through the first chunk's key
// (consistent hash), as simpler routers do.
import {
  type Placement,
  type PlacementPolicy,
  type PlacementRequest,
  type PrefixMatches,
  pendingTokens,
  type WorkerView,
} from './placement-policy.ts';

function cachedOn(id: string, request: PlacementRequest, matched: PrefixMatches): number {
  return Math.min(request.promptTokens, (matched.get(id)?.chunks ?? 0) * request.chunkTokens);
}

export class RoundRobinPolicy implements PlacementPolicy {
  readonly name = 'round-robin';
  private next = 0;

  choose(request: PlacementRequest, workers: readonly WorkerView[], matched: PrefixMatches): Placement {
    const w = workers[this.next++ % workers.length] as WorkerView;
    return {
      workerId: w.workerId,
      reason: 'round-robin',
      predictedCachedTokens: cachedOn(w.workerId, request, matched),
    };
  }
}

export class LeastLoadedPolicy implements PlacementPolicy {
  readonly name = 'least-loaded';

  choose(request: PlacementRequest, workers: readonly WorkerView[], matched: PrefixMatches): Placement {
    let best = workers[0] as WorkerView;
    for (const w of workers) {
      const d = pendingTokens(w) - pendingTokens(best);
      if (d < 0 || (d === 0 && w.workerId < best.workerId)) best = w;
    }
    return {
      workerId: best.workerId,
      reason: 'least-loaded',
      predictedCachedTokens: cachedOn(best.workerId, request, matched),
    };
  }
}

/**
 * Rendezvous (highest-random-weight) hashing of the first chunk's key: requests that share
 * their first chunk go to the same worker, and a worker leaving moves only its own keys.
 */
export class ConsistentHashPolicy implements PlacementPolicy {
  readonly name = 'consistent-hash';

  choose(request: PlacementRequest, workers: readonly WorkerView[], matched: PrefixMatches): Placement {
    const key = request.chunkKeys.length > 0 ? (request.chunkKeys[0] as bigint) : 0n;
    let best = workers[0] as WorkerView;
    let bestWeight = -1n;
    for (const w of workers) {
      const weight = mix64(key ^ stringHash(w.workerId));
      if (weight > bestWeight || (weight === bestWeight && w.workerId < best.workerId)) {
        best = w;
        bestWeight = weight;
      }
    }
    return {
      workerId: best.workerId,
      reason: 'hash',
      predictedCachedTokens: cachedOn(best.workerId, request, matched),
    };
  }
}

const MASK = (1n << 64n) - 1n;

function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return z ^ (z >> 31n);
}

function stringHash(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * 0x100000001b3n) & MASK;
  return h;
}
