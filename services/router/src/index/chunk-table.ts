// Which worker holds which chunk key, in which tier: the part of the index
// that longestPrefix reads. Per key, the holders are a small array (a prefix
// is normally on one to a few workers) that interleaves each holder with the
// depth of the tier it holds the key in ([holder, depth, holder, depth...]),
// so the lookup reads both from one array; per holder, its keys with their
// tier, so a holder's entries can be dropped without scanning every key.
//
// Memory is bounded by maxEntries (key, holder) pairs. Past the bound, new
// pairs are not recorded (counted in `dropped`) until removals make room: the
// index then under-reports, so placement loses some affinity but never sends
// a request to a worker for a prefix that worker does not hold. A holder's
// resync from its snapshot recovers what was dropped, once there is room.
import { applyEventTo, type ResidentKeys } from '@chunkmesh/common';
import type { KvOp, KvTier } from '@chunkmesh/native';
import type { PrefixMatch } from '../placement/placement-policy.ts';
import { KeyMap, wordsOf } from './key-map.ts';

/** Anything entries can belong to; compared by identity. */
export interface Holder {
  readonly id: string;
}

/** A key's holders, each followed by the depth (device 0, host 1, disk 2) of the tier it holds the key in. */
type Holding = (Holder | number)[];

const DEPTH: Record<KvTier, number> = { device: 0, host: 1, disk: 2 };

export class ChunkTable {
  private readonly holders = new KeyMap<Holding>();
  private readonly byHolder = new Map<Holder, Map<bigint, KvTier>>();
  private size = 0;
  /** Entries by tier depth. */
  private readonly inTier = [0, 0, 0];
  private droppedCount = 0;
  // Scratch of one longestPrefix call, per still-matching holder: its chunks on the host and disk.
  private host: number[] = [];
  private disk: number[] = [];

  constructor(private readonly maxEntries: number) {}

  /** One event of the holder, with the stream's semantics (applyEventTo, @chunkmesh/common redis-keys.ts). */
  apply(holder: Holder, event: { op: KvOp; tier: KvTier; from?: KvTier; keys: BigUint64Array }): void {
    const target: ResidentKeys = {
      place: (key, tier) => this.place(holder, key, tier),
      remove: (key, tier) => this.remove(holder, key, tier),
      clear: (tier) => {
        const gone: bigint[] = [];
        for (const [k, t] of this.byHolder.get(holder) ?? []) if (t === tier) gone.push(k);
        for (const k of gone) this.remove(holder, k, tier);
      },
    };
    applyEventTo(target, event);
  }

  /** Forgets every entry of the holder. */
  clear(holder: Holder): void {
    const own = this.byHolder.get(holder);
    if (!own) return;
    for (const [k, tier] of own) {
      this.unlink(holder, k);
      (this.inTier[DEPTH[tier]] as number)--;
    }
    this.size -= own.size;
    this.byHolder.delete(holder);
  }

  /**
   * Holder id -> its match for holders of keys[0..n), n >= 1: n and how many of those n chunks are
   * in each tier; stops at the first key nobody holds. `extra` (speculative holders, counted as on
   * the device: a placement puts the prefix there) is asked about the first key, and about a later
   * key only when some holder still matching is not a confirmed holder of it.
   */
  longestPrefix(
    keys: BigUint64Array,
    extra?: (key: bigint) => readonly Holder[] | undefined,
  ): Map<string, PrefixMatch> {
    const matched = new Map<string, PrefixMatch>();
    if (keys.length === 0) return matched;
    const words = wordsOf(keys);
    const confirmed0 = this.holders.getAt(words, 0);
    const guessed0 = extra?.(keys[0] as bigint);
    const alive: Holder[] = [];
    const { host, disk } = this;
    host.length = disk.length = 0;
    if (confirmed0) {
      for (let at = 0; at < confirmed0.length; at += 2) {
        const depth = confirmed0[at + 1] as number;
        alive.push(confirmed0[at] as Holder);
        host.push(depth === 1 ? 1 : 0);
        disk.push(depth === 2 ? 1 : 0);
      }
    }
    if (guessed0)
      for (const h of guessed0)
        if (!alive.includes(h)) {
          alive.push(h);
          host.push(0);
          disk.push(0);
        }
    if (alive.length === 0) return matched;
    const end = (h: Holder, j: number, n: number) => {
      const onHost = host[j] as number;
      const onDisk = disk[j] as number;
      matched.set(h.id, { chunks: n, device: n - onHost - onDisk, host: onHost, disk: onDisk });
    };
    for (let i = 1; i < keys.length; i++) {
      const confirmed = this.holders.getAt(words, i);
      let guessed: readonly Holder[] | undefined;
      let asked = false;
      // A prefix's keys mostly list their holders in the same order (the order they stored them),
      // so the next holder is looked for where the previous one was found before searching.
      let at = 0;
      let kept = 0;
      for (let j = 0; j < alive.length; j++) {
        const h = alive[j] as Holder;
        let depth = -1;
        if (confirmed !== undefined) {
          if (confirmed[at] !== h) at = confirmed.indexOf(h);
          if (at >= 0) {
            depth = confirmed[at + 1] as number;
            at += 2;
          } else at = 0;
        }
        if (depth < 0) {
          if (!asked) {
            guessed = extra?.(keys[i] as bigint);
            asked = true;
          }
          if (guessed?.includes(h) === true) depth = 0;
        }
        if (depth < 0) {
          end(h, j, i);
          continue;
        }
        alive[kept] = h;
        host[kept] = (host[j] as number) + (depth === 1 ? 1 : 0);
        disk[kept] = (disk[j] as number) + (depth === 2 ? 1 : 0);
        kept++;
      }
      alive.length = kept;
      if (kept === 0) return matched;
    }
    for (let j = 0; j < alive.length; j++) end(alive[j] as Holder, j, keys.length);
    return matched;
  }

  /** The holder's keys with the tier each is in. */
  entriesOf(holder: Holder): ReadonlyMap<bigint, KvTier> {
    return this.byHolder.get(holder) ?? new Map();
  }

  get entries(): number {
    return this.size;
  }

  /** Entries whose chunk is in each tier. */
  entriesByTier(): Record<KvTier, number> {
    const [device = 0, host = 0, disk = 0] = this.inTier;
    return { device, host, disk };
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /** The key is in `tier` of the holder, and in no other of its tiers. */
  private place(holder: Holder, key: bigint, tier: KvTier): void {
    let own = this.byHolder.get(holder);
    const was = own?.get(key);
    if (own && was !== undefined) {
      (this.inTier[DEPTH[was]] as number)--;
      (this.inTier[DEPTH[tier]] as number)++;
      own.set(key, tier);
      const list = this.holders.get(key) as Holding;
      list[list.indexOf(holder) + 1] = DEPTH[tier];
      return;
    }
    if (this.size >= this.maxEntries) {
      this.droppedCount++;
      return;
    }
    if (!own) {
      own = new Map();
      this.byHolder.set(holder, own);
    }
    own.set(key, tier);
    this.size++;
    (this.inTier[DEPTH[tier]] as number)++;
    const list = this.holders.get(key);
    if (list) list.push(holder, DEPTH[tier]);
    else this.holders.set(key, [holder, DEPTH[tier]]);
  }

  private remove(holder: Holder, key: bigint, tier: KvTier): void {
    const own = this.byHolder.get(holder);
    if (own?.get(key) !== tier) return;
    own.delete(key);
    this.size--;
    (this.inTier[DEPTH[tier]] as number)--;
    this.unlink(holder, key);
  }

  private unlink(holder: Holder, key: bigint): void {
    const list = this.holders.get(key);
    if (!list) return;
    if (list.length === 2) this.holders.delete(key);
    else list.splice(list.indexOf(holder), 2);
  }
}
