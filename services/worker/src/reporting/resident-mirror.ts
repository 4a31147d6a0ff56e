// The chunk keys the worker's tree holds, per tier, rebuilt from the tree's
// own events: the reporter snapshots and resynchronises from it without
// asking the tree (which lives on the engine's side of the native boundary).
import type { KvEvent, KvTier } from '@chunkmesh/native';

export class ResidentMirror {
  private readonly tiers: Record<KvTier, Set<bigint>> = {
    device: new Set(),
    host: new Set(),
    disk: new Set(),
  };

  /** The event semantics every reader of the stream shares (see redis-keys.ts). */
  apply(event: KvEvent): void {
    const set = this.tiers[event.tier];
    if (event.op === 'cleared') set.clear();
    else if (event.op === 'stored') for (const k of event.keys) set.add(k);
    else for (const k of event.keys) set.delete(k);
  }

  keys(tier: KvTier): ReadonlySet<bigint> {
    return this.tiers[tier];
  }

  /** A copy of every tier, for a snapshot or a resync. */
  arrays(): Record<KvTier, BigUint64Array> {
    return {
      device: BigUint64Array.from(this.tiers.device),
      host: BigUint64Array.from(this.tiers.host),
      disk: BigUint64Array.from(this.tiers.disk),
    };
  }
}
