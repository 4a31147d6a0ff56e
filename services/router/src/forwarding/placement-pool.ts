// The workers one attempt of a request may be placed on, as RouterCore asks
// for them on every attempt and bench:router times them: the index's live
// workers, less those this request has tried and those whose circuit breaker
// is open, each with the requests this router forwarded that its heartbeat
// does not include yet added to its load (ForwardedLoad). One pass, and no
// copy of a worker with nothing to add.
import type { WorkerView } from '../placement/placement-policy.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { ForwardedLoad } from './forwarded-load.ts';

export function placementPool<W extends WorkerView>(
  live: readonly W[],
  tried: ReadonlySet<string>,
  breaker: CircuitBreaker,
  forwarded: ForwardedLoad,
): W[] {
  const pool: W[] = [];
  for (const w of live) {
    if (tried.size > 0 && tried.has(w.workerId)) continue;
    if (!breaker.allows(w.workerId)) continue;
    pool.push(forwarded.adjusted(w));
  }
  return pool;
}
