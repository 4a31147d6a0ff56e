// KeyTable against the Map it replaces, over random operations on colliding
// and non-colliding 64-bit keys, through growth and deletion (which moves
// entries back into holes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seeded } from '@chunkmesh/test-support';
import { KeyTable, wordsOf } from '../../src/index/key-table.ts';

describe('KeyTable', () => {
  it('behaves like Map<bigint, [a, b]> under random insert/insertAt/find/delete', () => {
    const rand = seeded(12345);
    // a small key universe with shared low and high words, so probes collide and slots get reused;
    // key 0 and keys with negative int32 words included
    const universe = Array.from(
      { length: 5000 },
      (_, i) =>
        (BigInt(Math.floor(rand() * 64)) << 32n) | BigInt(i % 1000 === 0 ? 0 : Math.floor(rand() * 2 ** 32)),
    );
    universe.push(0n, 2n ** 64n - 1n);
    const t = new KeyTable(8);
    const ref = new Map<bigint, [number, number]>();
    for (let op = 0; op < 200_000; op++) {
      const key = universe[Math.floor(rand() * universe.length)] as bigint;
      const r = rand();
      const a = op + 1;
      const b = -op;
      if (r < 0.5) {
        let s: number;
        // Half through insertAt, at a random index of a keys array (as the speculation adds them).
        if (r < 0.25) s = t.insert(key);
        else {
          const keys = new BigUint64Array(3);
          const at = op % 3;
          keys[at] = key;
          s = t.insertAt(wordsOf(keys), at);
        }
        assert.equal(t.a(s) === 0, !ref.has(key), `a new key's slot is free (op ${op})`);
        t.setA(s, a);
        t.setB(s, b);
        ref.set(key, [a, b]);
      } else if (r < 0.8) {
        assert.equal(t.delete(key), ref.delete(key), `delete ${key} at op ${op}`);
      } else {
        const s = t.find(key);
        const want = ref.get(key);
        assert.deepEqual(s < 0 ? undefined : [t.a(s), t.b(s)], want, `find ${key} at op ${op}`);
      }
      if (op % 10_000 === 0) assert.equal(t.size, ref.size);
    }
    for (const [k, v] of ref) {
      const s = t.find(k);
      assert.deepEqual([t.a(s), t.b(s)], v);
    }
    const seen = new Map<bigint, [number, number]>();
    t.forEach((s, k) => {
      seen.set(k, [t.a(s), t.b(s)]);
    });
    assert.deepEqual(seen, ref);
    assert.equal(t.size, ref.size);
    assert.throws(() => t.setA(t.insert(1n), 0), RangeError);
  });
});
