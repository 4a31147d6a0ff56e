// A simulated worker's host and disk tiers, as the replayer models them:
// chunks the device pool evicts are demoted to the host tier, the host tier's
// least recently demoted chunks to disk, and the disk tier's drop out; a
// request whose prefix continues past the device into these tiers restores
// those chunks (they leave the tier: the prefill puts them on the device).
// Each tier is an LRU of chunk keys with a capacity in chunks; the real
// worker's tiers (native kv/chunk_store.h) work alike, with write-backs and
// reads on IO threads that the replay does not time beyond their rates.
import type { KvEvent, KvTier } from '@chunkmesh/native';

export interface LowerTierCapacity {
  /** Chunks the host tier holds (0: none). */
  hostChunks: number;
  /** Chunks the disk tier holds (0: none). */
  diskChunks: number;
}

/** Chunks of a prompt found below the device, by tier. */
export interface LowerHit {
  host: number;
  disk: number;
}

export class LowerTiers {
  // Insertion order is recency: a chunk enters at the end, the front is the least recent.
  private readonly host = new Map<bigint, true>();
  private readonly disk = new Map<bigint, true>();

  constructor(private readonly capacity: LowerTierCapacity) {}

  /** Chunks the device evicted: where they go, as the tree's events would say it. */
  evicted(keys: BigUint64Array): KvEvent[] {
    const out: KvEvent[] = [];
    for (const key of keys) {
      if (this.capacity.hostChunks > 0) {
        this.host.set(key, true);
        out.push(move('device', 'host', key));
        if (this.host.size > this.capacity.hostChunks) {
          const [oldest] = this.host.keys() as IterableIterator<bigint>;
          this.host.delete(oldest as bigint);
          out.push(...this.toDisk('host', oldest as bigint));
        }
      } else {
        out.push(...this.toDisk('device', key));
      }
    }
    return out;
  }

  /**
   * The run of keys[from..to) held below the device, taken out of its tiers (restored: the caller
   * puts them on the device); stops at the first key in neither tier.
   */
  restore(keys: BigUint64Array, from: number, to: number): LowerHit {
    const hit = { host: 0, disk: 0 };
    for (let i = from; i < to; i++) {
      const key = keys[i] as bigint;
      if (this.host.delete(key)) hit.host++;
      else if (this.disk.delete(key)) hit.disk++;
      else break;
    }
    return hit;
  }

  /** Chunks held now, per tier. */
  get sizes(): Record<Exclude<KvTier, 'device'>, number> {
    return { host: this.host.size, disk: this.disk.size };
  }

  private toDisk(from: KvTier, key: bigint): KvEvent[] {
    if (this.capacity.diskChunks === 0) return [{ op: 'removed', tier: from, keys: BigUint64Array.of(key) }];
    this.disk.set(key, true);
    const out = [move(from, 'disk', key)];
    if (this.disk.size > this.capacity.diskChunks) {
      const [oldest] = this.disk.keys() as IterableIterator<bigint>;
      this.disk.delete(oldest as bigint);
      out.push({ op: 'removed', tier: 'disk', keys: BigUint64Array.of(oldest as bigint) });
    }
    return out;
  }
}

function move(from: KvTier, tier: KvTier, key: bigint): KvEvent {
  return { op: 'demoted', tier, from, keys: BigUint64Array.of(key) };
}
