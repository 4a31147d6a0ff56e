// The chunk keys the worker's tree holds, per tier, rebuilt from the tree's
// own events: the reporter snapshots and resynchronises from it without
// asking the tree (which lives on the engine's side of the native boundary).
import { applyEventTo, KV_TIERS, type ResidentKeys } from '@chunkmesh/common';
import type { KvEvent, KvTier } from '@chunkmesh/native';

export class ResidentMirror implements ResidentKeys {
  private readonly tiers: Record<KvTier, Set<bigint>> = {
    device: new Set(),
    host: new Set(),
    disk: new Set(),
  };

  /** The event semantics every reader of the stream shares (@chunkmesh/common redis-keys.ts). */
  apply(event: KvEvent): void {
    applyEventTo(this, event);
  }

  place(key: bigint, tier: KvTier): void {
    // A key is in one tier at a time: a move (or a store over a stale entry) leaves the others.
    for (const t of KV_TIERS) {
      if (t === tier) this.tiers[t].add(key);
      else this.tiers[t].delete(key);
    }
  }

  remove(key: bigint, tier: KvTier): void {
    this.tiers[tier].delete(key);
  }

  clear(tier: KvTier): void {
    this.tiers[tier].clear();
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
