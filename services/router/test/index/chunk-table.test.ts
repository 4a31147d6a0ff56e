// The router's chunk table against the plain-Map reference of the stream's
// event semantics, per holder, over random event sequences with moves between
// tiers: its entries, and longestPrefix's matches with their tiers, must be
// the reference's after every event.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvTier } from '@chunkmesh/native';
import { ResidentReference, randomTierEvents, seeded } from '@chunkmesh/test-support';
import { ChunkTable, type Holder, holderSerial } from '../../src/index/chunk-table.ts';
import { Speculation } from '../../src/index/speculation.ts';
import type { PrefixMatch } from '../../src/placement/placement-policy.ts';

const SEEDS = process.env.CHUNKMESH_TEST_SEED
  ? [Number(process.env.CHUNKMESH_TEST_SEED)]
  : [1, 2, 3, 4, 5, 6];
const POOL = 24;

/**
 * What longestPrefix must answer, from the references: each holder's run of held keys from keys[0],
 * a key it is only guessed to hold counted as on the device.
 */
function expectedMatches(
  refs: Map<Holder, ResidentReference>,
  keys: BigUint64Array,
  guessed: Map<Holder, Set<bigint>> = new Map(),
): Map<string, PrefixMatch> {
  const out = new Map<string, PrefixMatch>();
  for (const [h, ref] of refs) {
    const m = { chunks: 0, device: 0, host: 0, disk: 0 };
    for (const k of keys) {
      const tier = ref.tiers.get(k) ?? (guessed.get(h)?.has(k) ? 'device' : undefined);
      if (tier === undefined) break;
      m.chunks++;
      m[tier]++;
    }
    if (m.chunks > 0) out.set(h.id, m);
  }
  return out;
}

const holder = (id: string): Holder => ({ id, serial: holderSerial() });

function sorted<V>(m: ReadonlyMap<string, V>): [string, V][] {
  return [...m].sort(([a], [b]) => (a < b ? -1 : 1));
}

describe('chunk table', () => {
  it('holds each key of a holder in one tier, moving it on demoted and promoted', () => {
    const t = new ChunkTable(100);
    const a = holder('a');
    const b = holder('b');
    const keys = BigUint64Array.from([10n, 11n, 12n]);
    t.apply(a, { op: 'stored', tier: 'device', keys });
    t.apply(b, { op: 'stored', tier: 'device', keys: keys.subarray(0, 2) });
    t.apply(a, { op: 'demoted', tier: 'host', from: 'device', keys: keys.subarray(1) });
    t.apply(a, { op: 'demoted', tier: 'disk', from: 'host', keys: keys.subarray(2) });
    assert.deepEqual(
      [...t.entriesOf(a)],
      [
        [10n, 'device'],
        [11n, 'host'],
        [12n, 'disk'],
      ],
    );
    assert.equal(t.entries, 5, 'a move is not a second entry');
    assert.deepEqual(sorted(t.longestPrefix(keys).toMap()), [
      ['a', { chunks: 3, device: 1, host: 1, disk: 1 }],
      ['b', { chunks: 2, device: 2, host: 0, disk: 0 }],
    ]);
    t.apply(a, { op: 'promoted', tier: 'device', from: 'disk', keys: keys.subarray(2) });
    t.apply(a, { op: 'cleared', tier: 'host', keys: new BigUint64Array(0) });
    assert.deepEqual(
      [...t.entriesOf(a)],
      [
        [10n, 'device'],
        [12n, 'device'],
      ],
    );
    assert.deepEqual(sorted(t.longestPrefix(keys).toMap()), [
      ['a', { chunks: 1, device: 1, host: 0, disk: 0 }],
      ['b', { chunks: 2, device: 2, host: 0, disk: 0 }],
    ]);
  });

  it('counts speculative holders as on the device', () => {
    const t = new ChunkTable(100);
    const a = holder('a');
    const b = holder('b');
    const keys = BigUint64Array.from([1n, 2n, 3n]);
    t.apply(a, { op: 'stored', tier: 'disk', keys: keys.subarray(0, 1) });
    const guesses = new Speculation(100, (h) => h !== b);
    const now = Date.now();
    guesses.add(a, keys.subarray(0, 2), 1000, now);
    guesses.add(b, keys, 1000, now);
    assert.deepEqual(
      sorted(t.longestPrefix(keys, guesses, now + 999).toMap()),
      [['a', { chunks: 2, device: 1, host: 0, disk: 1 }]],
      'b is not live',
    );
    assert.deepEqual(
      sorted(t.longestPrefix(keys, guesses, now + 1000).toMap()),
      [['a', { chunks: 1, device: 0, host: 0, disk: 1 }]],
      'the guesses expired',
    );
  });

  for (const seed of SEEDS) {
    it(`equals the reference after every event of random sequences on 3 holders, with guesses (seed ${seed})`, () => {
      const random = seeded(seed);
      const t = new ChunkTable(Number.POSITIVE_INFINITY);
      const holders = [holder('h0'), holder('h1'), holder('h2')];
      const refs = new Map(holders.map((h) => [h as Holder, new ResidentReference()]));
      const streams = holders.map(() => randomTierEvents(random, 300, POOL));
      // Guesses that never expire in the test, a few added every step.
      const guesses = new Speculation(Number.POSITIVE_INFINITY, () => true);
      const guessed = new Map(holders.map((h) => [h as Holder, new Set<bigint>()]));
      const now = Date.now();
      const randomKey = () => BigInt(1 + Math.floor(random() * POOL));
      for (let i = 0; i < 300; i++) {
        if (random() < 0.3) {
          const h = holders[Math.floor(random() * holders.length)] as Holder;
          const keys = BigUint64Array.from({ length: 1 + Math.floor(random() * 3) }, randomKey);
          guesses.add(h, keys, 1e6, now);
          for (const k of keys) guessed.get(h)?.add(k);
        }
        for (const [j, h] of holders.entries()) {
          const e = streams[j]?.[i];
          if (!e) continue;
          t.apply(h, e);
          refs.get(h)?.apply(e);
          const what = `seed ${seed}, ${h.id} event ${i} (${e.op} ${e.from ?? ''}->${e.tier})`;
          assert.deepEqual(new Map(t.entriesOf(h)), refs.get(h)?.tiers, what);
        }
        // Some queries walk keys again (runs of keys with the same holders are counted, not walked).
        const query = BigUint64Array.from({ length: 1 + Math.floor(random() * 6) }, randomKey);
        for (let k = 1; k < query.length; k++) if (random() < 0.3) query[k] = query[k - 1] as bigint;
        const plain = t.longestPrefix(query);
        const want = expectedMatches(refs, query);
        assert.deepEqual(sorted(plain.toMap()), sorted(want), `seed ${seed}, query ${i}`);
        assert.equal(plain.size, want.size, `seed ${seed}, query ${i}: size`);
        for (const h of holders)
          assert.deepEqual(plain.get(h.id), want.get(h.id), `seed ${seed}, query ${i}: ${h.id}`);
        const withGuesses = t.longestPrefix(query, guesses, now);
        const wantGuessed = expectedMatches(refs, query, guessed);
        assert.deepEqual(
          sorted(withGuesses.toMap()),
          sorted(wantGuessed),
          `seed ${seed}, query ${i} with guesses`,
        );
        assert.equal(withGuesses.size, wantGuessed.size, `seed ${seed}, query ${i} with guesses: size`);
      }
      assert.equal(
        t.entries,
        [...refs.values()].reduce((n, r) => n + r.tiers.size, 0),
      );
      const byTier = { device: 0, host: 0, disk: 0 };
      for (const r of refs.values()) for (const tier of r.tiers.values()) byTier[tier]++;
      assert.deepEqual(t.entriesByTier(), byTier);
    });
  }

  it('answers for one prompt until the next call, then refuses to be read', () => {
    const t = new ChunkTable(100);
    const a = holder('a');
    t.apply(a, { op: 'stored', tier: 'host', keys: BigUint64Array.of(1n, 2n) });
    const first = t.longestPrefix(BigUint64Array.of(1n, 2n));
    assert.deepEqual(first.get('a'), { chunks: 2, device: 0, host: 2, disk: 0 });
    assert.equal(first.get('b'), undefined);
    const second = t.longestPrefix(BigUint64Array.of(3n));
    assert.equal(second.size, 0);
    assert.equal(second.get('a'), undefined, 'a holds nothing of this prompt');
    assert.throws(() => first.get('a'), /after the next longestPrefix/);
  });

  it('past maxEntries records nothing new, and what it holds is always in the tier the reference says', () => {
    const random = seeded(99);
    const t = new ChunkTable(10);
    const h = holder('h');
    const ref = new ResidentReference();
    for (const e of randomTierEvents(random, 2000, POOL)) {
      t.apply(h, e);
      ref.apply(e);
      assert.ok(t.entries <= 10);
      for (const [k, tier] of t.entriesOf(h)) assert.equal(tier, ref.tiers.get(k) as KvTier);
    }
    assert.ok(t.dropped > 0, 'the bound was reached');
  });
});
