// The worker's mirror of its resident keys against the plain-Map reference of
// the stream's event semantics, over random event sequences that include
// moves between tiers and events a tree would never emit (a reader must stay
// exact either way: the mirror is what resyncs rebuild the routers from).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KV_TIERS } from '@chunkmesh/common';
import { ResidentReference, randomTierEvents, seeded } from '@chunkmesh/test-support';
import { ResidentMirror } from '../../src/reporting/resident-mirror.ts';

const SEEDS = process.env.CHUNKMESH_TEST_SEED
  ? [Number(process.env.CHUNKMESH_TEST_SEED)]
  : [1, 2, 3, 4, 5, 6, 7, 8];

describe('resident mirror', () => {
  it('moves a key between tiers: it leaves `from` and is in `tier`, in exactly one tier', () => {
    const m = new ResidentMirror();
    const keys = BigUint64Array.from([1n, 2n, 3n]);
    m.apply({ op: 'stored', tier: 'device', keys });
    m.apply({ op: 'demoted', tier: 'host', from: 'device', keys: keys.subarray(0, 2) });
    m.apply({ op: 'demoted', tier: 'disk', from: 'host', keys: keys.subarray(0, 1) });
    assert.deepEqual([...m.keys('device')], [3n]);
    assert.deepEqual([...m.keys('host')], [2n]);
    assert.deepEqual([...m.keys('disk')], [1n]);
    m.apply({ op: 'promoted', tier: 'device', from: 'disk', keys: keys.subarray(0, 1) });
    assert.deepEqual([...m.keys('device')].sort(), [1n, 3n]);
    assert.deepEqual([...m.keys('disk')], []);
    // A removal names the tier the key is dropped from: a key in another tier stays.
    m.apply({ op: 'removed', tier: 'disk', keys: keys.subarray(1, 2) });
    assert.deepEqual([...m.keys('host')], [2n]);
    const arrays = m.arrays();
    assert.deepEqual(
      KV_TIERS.map((t) => arrays[t].length),
      [2, 1, 0],
    );
  });

  for (const seed of SEEDS) {
    it(`equals the reference after every event of a random sequence (seed ${seed})`, () => {
      const m = new ResidentMirror();
      const ref = new ResidentReference();
      const events = randomTierEvents(seeded(seed), 400, 40);
      events.forEach((e, i) => {
        m.apply(e);
        ref.apply(e);
        for (const tier of KV_TIERS)
          assert.deepEqual(
            new Set(m.keys(tier)),
            ref.keys(tier),
            `seed ${seed}, after event ${i} (${e.op} ${e.from ?? ''}->${e.tier}), tier ${tier}`,
          );
      });
    });
  }
});
