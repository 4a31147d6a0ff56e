// KeyMap against the Map it replaces, over random operations on colliding
// and non-colliding 64-bit keys, through growth and deletion.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyMap, wordsOf } from '../../src/index/key-map.ts';

describe('KeyMap', () => {
  it('behaves like Map<bigint, V> under random set/setAt/get/delete', () => {
    let s = 12345;
    const rand = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 4294967296;
    };
    // a small key universe with shared low and high words, so probes collide and slots get reused
    const universe = Array.from(
      { length: 5000 },
      (_, i) =>
        (BigInt(Math.floor(rand() * 64)) << 32n) | BigInt(i % 1000 === 0 ? 0 : Math.floor(rand() * 2 ** 32)),
    );
    const km = new KeyMap<number>(8);
    const ref = new Map<bigint, number>();
    for (let op = 0; op < 200_000; op++) {
      const key = universe[Math.floor(rand() * universe.length)] as bigint;
      const r = rand();
      if (r < 0.5) {
        // Half through setAt, at a random index of a keys array (as the speculation adds them).
        if (r < 0.25) km.set(key, op);
        else {
          const keys = new BigUint64Array(3);
          const at = op % 3;
          keys[at] = key;
          km.setAt(wordsOf(keys), at, op);
        }
        ref.set(key, op);
      } else if (r < 0.8) {
        assert.equal(km.delete(key), ref.delete(key), `delete ${key} at op ${op}`);
      } else {
        assert.equal(km.get(key), ref.get(key), `get ${key} at op ${op}`);
      }
      if (op % 10_000 === 0) assert.equal(km.size, ref.size);
    }
    for (const [k, v] of ref) assert.equal(km.get(k), v);
    assert.equal(km.size, ref.size);
  });
});
