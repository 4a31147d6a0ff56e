// The tokenize cache's two-generation store: never over its bound, never
// wrong ids, and keeping what was kept or used within the last half of the
// bound (the guarantee token-lru.ts states).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenLru } from '../src/token-lru.ts';
import { randomInts } from './support/random-ints.ts';

const idsOf = (text: string, n: number): number[] =>
  Array.from({ length: n }, (_, i) => text.length * 1000 + i);

describe('TokenLru', () => {
  it('holds at most its bound, answers only what it was given, and keeps the last half of the bound', () => {
    const next = randomInts(7);
    const max = 200;
    const lru = new TokenLru(max);
    const given = new Map<string, number[]>();
    const order: { text: string; tokens: number }[] = [];
    for (let i = 0; i < 5000; i++) {
      const text = `t${i}`;
      const n = 1 + (next() % 40);
      const ids = idsOf(text, n);
      lru.set(text, ids);
      given.set(text, ids);
      order.push({ text, tokens: n });
      assert.ok(lru.tokens <= max, `${lru.tokens} tokens held`);
      // what was used within the last half of the bound (counting every use's tokens, which is
      // more than were kept, so the window is if anything too short) is held; checking is a use
      let after = 0;
      let from = order.length;
      while (from > 0) {
        const e = order[from - 1] as { text: string; tokens: number };
        if (after + e.tokens > max / 2) break;
        after += e.tokens;
        from--;
      }
      const window = order.splice(from);
      for (const e of window) {
        assert.deepEqual(lru.get(e.text), given.get(e.text), `${e.text} at ${i}`);
        order.push(e);
      }
      // whatever else is held is what was set
      const probe = `t${next() % (i + 1)}`;
      const got = lru.get(probe);
      if (got !== undefined) {
        assert.deepEqual(got, given.get(probe));
        const at = order.findIndex((e) => e.text === probe);
        order.push(...order.splice(at, 1));
      }
    }
  });

  it('keeps every entry kept within the last maxTokens/2 tokens', () => {
    const lru = new TokenLru(100);
    for (let i = 0; i < 50; i++) lru.set(`a${i}`, idsOf(`a${i}`, 5));
    // the last ten (50 tokens) are held whatever rotations happened
    for (let i = 40; i < 50; i++) assert.deepEqual(lru.get(`a${i}`), idsOf(`a${i}`, 5), `a${i}`);
    assert.ok(lru.tokens <= 100);
  });

  it('an entry in use survives while newer entries pass through', () => {
    const lru = new TokenLru(100);
    lru.set('hot', idsOf('hot', 10));
    for (let i = 0; i < 200; i++) {
      lru.set(`c${i}`, idsOf(`c${i}`, 7));
      assert.deepEqual(lru.get('hot'), idsOf('hot', 10), `after ${i}`);
    }
    // once left alone it goes within the bound's worth of newer entries
    for (let i = 200; i < 230; i++) lru.set(`c${i}`, idsOf(`c${i}`, 7));
    assert.equal(lru.get('hot'), undefined);
  });

  it('does not keep an entry larger than half the bound', () => {
    const lru = new TokenLru(10);
    lru.set('big', idsOf('big', 6));
    assert.equal(lru.get('big'), undefined);
    lru.set('fits', idsOf('fits', 5));
    assert.deepEqual(lru.get('fits'), idsOf('fits', 5));
  });
});
