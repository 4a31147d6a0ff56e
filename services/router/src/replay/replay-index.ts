// The replayer's PlacementIndex: the simulated workers' own tree events in a
// ChunkTable, as the router's ClusterIndex holds real workers' from the
// stream. A worker's events are applied as soon as it has served a request,
// before the next decision, so the index never lags and a speculative entry
// would add nothing.
import type { ChunkMatches } from '../index/chunk-matches.ts';
import { ChunkTable } from '../index/chunk-table.ts';
import type { PlacementIndex } from '../placement/decide.ts';
import type { SimulatedWorker } from './simulated-worker.ts';

export class ReplayIndex implements PlacementIndex {
  // Unbounded: the workers' pools bound what they hold.
  private readonly table = new ChunkTable(Number.POSITIVE_INFINITY);

  /** Applies what the worker's tree stored, moved between tiers and dropped since the last call. */
  update(worker: SimulatedWorker): void {
    for (const e of worker.drainEvents()) this.table.apply(worker, e);
  }

  longestPrefix(keys: BigUint64Array): ChunkMatches {
    return this.table.longestPrefix(keys);
  }

  speculate(): void {
    // Nothing to bridge: see above.
  }
}
