// Tree events as the native KvCache drains them, for tests of the reporting
// path: a generator that stores fresh random 64-bit keys, moves resident ones
// between tiers and removes them, so every sequence it produces is one a
// real tree could emit; and, for property tests of the stream's readers, a
// plain-Map reference of the event semantics with random event sequences
// that also break the tree's rules (a reader must stay exact under both).
import { randomBytes } from 'node:crypto';
import type { KvEvent, KvOp, KvTier } from '@chunkmesh/native';

const TIERS: readonly KvTier[] = ['device', 'host', 'disk'];

export function randomKeys(n: number): BigUint64Array {
  return new BigUint64Array(randomBytes(n * 8).buffer);
}

export class TreeEventSource {
  private readonly resident: Record<KvTier, Set<bigint>> = {
    device: new Set(),
    host: new Set(),
    disk: new Set(),
  };

  store(n: number, tier: KvTier = 'device'): KvEvent[] {
    const keys = randomKeys(n);
    for (const k of keys) this.resident[tier].add(k);
    return [{ op: 'stored', tier, keys }];
  }

  remove(n: number, tier: KvTier = 'device'): KvEvent[] {
    const keys = BigUint64Array.from([...this.resident[tier]].slice(0, n));
    for (const k of keys) this.resident[tier].delete(k);
    return [{ op: 'removed', tier, keys }];
  }

  /** Moves up to n keys of `from` to `tier`: demoted when `tier` is below, promoted when above. */
  move(n: number, from: KvTier, tier: KvTier): KvEvent[] {
    const keys = BigUint64Array.from([...this.resident[from]].slice(0, n));
    for (const k of keys) {
      this.resident[from].delete(k);
      this.resident[tier].add(k);
    }
    const op: KvOp = TIERS.indexOf(tier) > TIERS.indexOf(from) ? 'demoted' : 'promoted';
    return [{ op, tier, from, keys }];
  }

  clear(tier: KvTier = 'device'): KvEvent[] {
    this.resident[tier].clear();
    return [{ op: 'cleared', tier, keys: new BigUint64Array(0) }];
  }

  /** Rounds of stores, demotions (device -> host -> disk), promotions and removals. */
  churn(rounds: number): KvEvent[] {
    const out: KvEvent[] = [];
    for (let i = 0; i < rounds; i++) {
      out.push(...this.store(20 + (i % 7)), ...this.move(6 + (i % 4), 'device', 'host'));
      if (i % 3 === 2) out.push(...this.move(4, 'host', 'disk'), ...this.move(2, 'disk', 'device'));
      if (i % 4 === 3) out.push(...this.move(3, 'host', 'device'), ...this.remove(3, 'disk'));
      out.push(...this.remove(5 + (i % 3), 'device'));
    }
    return out;
  }
}

/**
 * The stream's event semantics (@chunkmesh/common redis-keys.ts) written out on a plain Map,
 * key -> tier, for one worker: the reference readers are checked against.
 */
export class ResidentReference {
  readonly tiers = new Map<bigint, KvTier>();

  apply(e: KvEvent): void {
    if (e.op === 'cleared') {
      for (const [k, t] of this.tiers) if (t === e.tier) this.tiers.delete(k);
    } else if (e.op === 'removed') {
      for (const k of e.keys) if (this.tiers.get(k) === e.tier) this.tiers.delete(k);
    } else {
      // stored, demoted, promoted: the key is in `tier` now, wherever it was.
      for (const k of e.keys) this.tiers.set(k, e.tier);
    }
  }

  keys(tier: KvTier): Set<bigint> {
    return new Set([...this.tiers].filter(([, t]) => t === tier).map(([k]) => k));
  }
}

/**
 * n random events over a pool of `poolSize` keys (1..poolSize), drawn with `random` (uniform in
 * [0, 1)): every op and valid tier pair, on keys in any tier or none, so removals of absent keys,
 * moves of keys not in `from` and stores over resident keys all occur.
 */
export function randomTierEvents(random: () => number, n: number, poolSize: number): KvEvent[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const out: KvEvent[] = [];
  for (let i = 0; i < n; i++) {
    const keys = BigUint64Array.from({ length: Math.floor(random() * 6) }, () =>
      BigInt(1 + Math.floor(random() * poolSize)),
    );
    const op = pick<KvOp>(['stored', 'stored', 'removed', 'demoted', 'promoted', 'cleared']);
    if (op === 'demoted' || op === 'promoted') {
      const [from, tier] = pick<[KvTier, KvTier]>(
        op === 'demoted'
          ? [
              ['device', 'host'],
              ['device', 'disk'],
              ['host', 'disk'],
            ]
          : [
              ['host', 'device'],
              ['disk', 'device'],
              ['disk', 'host'],
            ],
      );
      out.push({ op, tier, from, keys });
    } else if (op === 'cleared' && random() < 0.7) {
      // Clears empty a tier at once: fewer of them, so tiers fill between.
      i--;
    } else {
      out.push({ op, tier: pick(TIERS), keys: op === 'cleared' ? new BigUint64Array(0) : keys });
    }
  }
  return out;
}
