// Which worker holds which chunk key, in which tiers: the part of the index
// that longestPrefix reads. Per key, the holders are a small array (a prefix
// is normally on one to a few workers), and per holder, its keys with a tier
// bitmask, so a holder's entries can be dropped without scanning every key.
//
// Memory is bounded by maxEntries (key, holder) pairs. Past the bound, new
// pairs are not recorded (counted in `dropped`) until removals make room: the
// index then under-reports, so placement loses some affinity but never sends
// a request to a worker for a prefix that worker does not hold. A holder's
// resync from its snapshot recovers what was dropped, once there is room.
import type { KvOp, KvTier } from '@chunkmesh/native';
import { KeyMap, wordsOf } from './key-map.ts';

/** Anything entries can belong to; compared by identity. */
export interface Holder {
  readonly id: string;
}

const TIER_BIT: Record<KvTier, number> = { device: 1, host: 2, disk: 4 };

export class ChunkTable {
  private readonly holders = new KeyMap<Holder[]>();
  private readonly byHolder = new Map<Holder, Map<bigint, number>>();
  private size = 0;
  private droppedCount = 0;

  constructor(private readonly maxEntries: number) {}

  /** The event semantics of the stream (see @chunkmesh/common redis-keys.ts); 'cleared' clears one tier. */
  apply(holder: Holder, op: KvOp, tier: KvTier, keys: BigUint64Array): void {
    const bit = TIER_BIT[tier];
    if (op === 'stored') for (const k of keys) this.add(holder, k, bit);
    else if (op === 'removed') for (const k of keys) this.remove(holder, k, bit);
    else for (const [k, mask] of this.byHolder.get(holder) ?? []) if (mask & bit) this.remove(holder, k, bit);
  }

  /** Forgets every entry of the holder. */
  clear(holder: Holder): void {
    const own = this.byHolder.get(holder);
    if (!own) return;
    for (const k of own.keys()) this.unlink(holder, k);
    this.size -= own.size;
    this.byHolder.delete(holder);
  }

  /**
   * Holder id -> n for holders of keys[0..n), n >= 1; stops at the first key nobody holds.
   * `extra` (speculative holders) is asked about the first key, and about a later key only when
   * some holder still matching is not a confirmed holder of it.
   */
  longestPrefix(
    keys: BigUint64Array,
    extra?: (key: bigint) => readonly Holder[] | undefined,
  ): Map<string, number> {
    const matched = new Map<string, number>();
    if (keys.length === 0) return matched;
    const words = wordsOf(keys);
    const confirmed0 = this.holders.getAt(words, 0);
    const guessed0 = extra?.(keys[0] as bigint);
    const alive: Holder[] = confirmed0 ? confirmed0.slice() : [];
    if (guessed0) for (const h of guessed0) if (!alive.includes(h)) alive.push(h);
    if (alive.length === 0) return matched;
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
        let held = false;
        if (confirmed !== undefined) {
          if (confirmed[at] === h) {
            held = true;
            at++;
          } else {
            const found = confirmed.indexOf(h);
            if (found >= 0) {
              held = true;
              at = found + 1;
            }
          }
        }
        if (!held) {
          if (!asked) {
            guessed = extra?.(keys[i] as bigint);
            asked = true;
          }
          held = guessed?.includes(h) === true;
        }
        if (held) alive[kept++] = h;
        else matched.set(h.id, i);
      }
      alive.length = kept;
      if (kept === 0) return matched;
    }
    for (const h of alive) matched.set(h.id, keys.length);
    return matched;
  }

  /** The holder's keys with their tier bitmask (device 1, host 2, disk 4). */
  entriesOf(holder: Holder): ReadonlyMap<bigint, number> {
    return this.byHolder.get(holder) ?? new Map();
  }

  get entries(): number {
    return this.size;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  private add(holder: Holder, key: bigint, bit: number): void {
    let own = this.byHolder.get(holder);
    const mask = own?.get(key);
    if (own && mask !== undefined) {
      own.set(key, mask | bit);
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
    own.set(key, bit);
    this.size++;
    const list = this.holders.get(key);
    if (list) list.push(holder);
    else this.holders.set(key, [holder]);
  }

  private remove(holder: Holder, key: bigint, bit: number): void {
    const own = this.byHolder.get(holder);
    const mask = own?.get(key);
    if (!own || mask === undefined) return;
    if (mask & ~bit) {
      own.set(key, mask & ~bit);
      return;
    }
    own.delete(key);
    this.size--;
    this.unlink(holder, key);
  }

  private unlink(holder: Holder, key: bigint): void {
    const list = this.holders.get(key);
    if (!list) return;
    if (list.length === 1) this.holders.delete(key);
    else list.splice(list.indexOf(holder), 1);
  }
}
