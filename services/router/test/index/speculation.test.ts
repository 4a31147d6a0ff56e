// Speculation against a plain reference (key -> holder -> when its guess
// expires), over random guesses by several holders, holders going away, time
// passing, sweeps, and a clock far enough ahead that stored times are rebased.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seeded } from '@chunkmesh/test-support';
import { type Holder, holderSerial } from '../../src/index/chunk-table.ts';
import { wordsOf } from '../../src/index/key-table.ts';
import { Speculation } from '../../src/index/speculation.ts';

const SEEDS = process.env.CHUNKMESH_TEST_SEED ? [Number(process.env.CHUNKMESH_TEST_SEED)] : [1, 2, 3, 4];

describe('speculation', () => {
  for (const seed of SEEDS) {
    it(`answers as the reference through guesses, expiry, gone holders, sweeps and rebasing (seed ${seed})`, () => {
      const rand = seeded(seed);
      const holders: Holder[] = Array.from({ length: 4 }, (_, i) => ({
        id: `h${i}`,
        serial: holderSerial(),
      }));
      const gone = new Set<Holder>();
      let now = Date.now();
      const spec = new Speculation(Number.POSITIVE_INFINITY, (h) => !gone.has(h));
      const ref = new Map<bigint, Map<Holder, number>>();
      const standing = (key: bigint) =>
        [...(ref.get(key) ?? [])].filter(([h, until]) => until > now && !gone.has(h)).map(([h]) => h.serial);
      for (let op = 0; op < 3000; op++) {
        const r = rand();
        if (r < 0.45) {
          const h = holders[Math.floor(rand() * holders.length)] as Holder;
          const ttl = Math.floor(rand() * 50);
          const keys = BigUint64Array.from({ length: 1 + Math.floor(rand() * 5) }, () =>
            BigInt(Math.floor(rand() * 40)),
          );
          spec.add(h, keys, ttl, now);
          for (const k of keys) {
            const m = ref.get(k) ?? new Map<Holder, number>();
            m.set(h, Math.max(m.get(h) ?? -Infinity, now + ttl));
            ref.set(k, m);
          }
        } else if (r < 0.55) now += Math.floor(rand() * 20);
        else if (r < 0.57)
          now += 2 ** 29 + Math.floor(rand() * 1000); // past the rebase point
        else if (r < 0.6) {
          spec.sweep(now);
          for (const [k, m] of ref) {
            for (const [h, until] of m) if (until <= now || gone.has(h)) m.delete(h);
            if (m.size === 0) ref.delete(k);
          }
          assert.equal(spec.size, ref.size, `op ${op}: swept keys`);
        } else if (r < 0.61) {
          const h = holders[Math.floor(rand() * holders.length)] as Holder;
          if (gone.has(h)) gone.delete(h);
          else gone.add(h);
        } else {
          const key = BigInt(Math.floor(rand() * 40));
          const words = wordsOf(BigUint64Array.of(key));
          const slot = spec.findAt(words, 0);
          const want = standing(key);
          const got: number[] = [];
          if (slot >= 0) spec.standing(slot, now, got);
          assert.deepEqual(got.sort(), want.sort(), `op ${op}: holders standing for ${key}`);
          for (const h of holders)
            assert.equal(
              slot >= 0 && spec.has(slot, h.serial, now),
              want.includes(h.serial),
              `op ${op}: ${h.id}`,
            );
          for (const serial of got) assert.ok(spec.holder(serial), 'a standing holder is known');
        }
      }
    });
  }

  it('records no new key past maxKeys, but still extends the keys it has', () => {
    const h: Holder = { id: 'h', serial: holderSerial() };
    const g: Holder = { id: 'g', serial: holderSerial() };
    const now = Date.now();
    const spec = new Speculation(2, () => true);
    spec.add(h, BigUint64Array.of(1n, 2n, 3n), 10, now);
    assert.equal(spec.size, 2);
    spec.add(g, BigUint64Array.of(2n), 10, now);
    const slot = spec.findAt(wordsOf(BigUint64Array.of(2n)), 0);
    assert.ok(spec.has(slot, g.serial, now) && spec.has(slot, h.serial, now));
    assert.equal(spec.findAt(wordsOf(BigUint64Array.of(3n)), 0), -1);
    assert.throws(() => spec.add(h, BigUint64Array.of(1n), 2 ** 30, now), RangeError);
  });
});
