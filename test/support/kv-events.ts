// Tree events as the native KvCache drains them, for tests of the reporting
// path: a generator that stores fresh random 64-bit keys and removes resident
// ones, so every sequence it produces is one a real tree could emit.
import { randomBytes } from 'node:crypto';
import type { KvEvent, KvTier } from '@chunkmesh/native';

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

  clear(tier: KvTier = 'device'): KvEvent[] {
    this.resident[tier].clear();
    return [{ op: 'cleared', tier, keys: new BigUint64Array(0) }];
  }

  /** Rounds of stores and removals across tiers. */
  churn(rounds: number): KvEvent[] {
    const out: KvEvent[] = [];
    for (let i = 0; i < rounds; i++) {
      const tier: KvTier = i % 5 === 4 ? 'host' : 'device';
      out.push(...this.store(20 + (i % 7), tier), ...this.remove(5 + (i % 3), tier));
    }
    return out;
  }
}
