// Whether the router can place a request, and if not why, from the cluster
// index: what /readyz answers, Info lists and a request finding no worker is
// told. Being ready takes one live worker whose cluster constants equal the
// router's; incompatible workers are named with the reason either way.
import type { ClusterIndex } from './cluster-index.ts';

export interface Readiness {
  ready: boolean;
  /** Why not, when not ready. */
  reason?: string;
  /** Live workers the router places on. */
  liveWorkers: number;
  /** "worker-id: reason" for each live worker the router does not place on. */
  incompatibleWorkers: string[];
}

export function readiness(index: Pick<ClusterIndex, 'workers' | 'incompatibleWorkers'>): Readiness {
  const liveWorkers = index.workers().length;
  const incompatibleWorkers = index.incompatibleWorkers().map((w) => `${w.workerId}: ${w.reason}`);
  if (liveWorkers > 0) return { ready: true, liveWorkers, incompatibleWorkers };
  const reason =
    incompatibleWorkers.length === 0
      ? 'no live worker in the cluster'
      : `no live worker in the cluster is compatible with this router (${incompatibleWorkers.join(', ')})`;
  return { ready: false, reason, liveWorkers, incompatibleWorkers };
}
