// The truncation matcher and its record, without a model: which recorded
// conversation a prompt continues after dropping turns, at what head and
// drop, in whole chunks; and the record's bound in tokens.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvCache } from '@chunkmesh/native';
import type { RequestState } from '../../src/engine/request-state.ts';
import { findGraft, TruncationReuse } from '../../src/engine/truncation-reuse.ts';

const C = 4;
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('findGraft', () => {
  const head = [1, 2, 3];
  const dropped = range(100, 10);
  const kept = range(200, 21);
  const recorded = [...head, ...dropped, ...kept];

  it('finds the head, the dropped span and the whole chunks the kept turns cover', () => {
    const prompt = [...head, ...kept, 7, 8];
    // the last prompt token is never matched: kept fills [3, 24), whole chunks end at 24
    assert.deepEqual(findGraft(prompt, recorded, C), { head: 3, drop: 10, end: 24 });
  });

  it('stops at the last prompt token and at the first token that differs', () => {
    assert.deepEqual(findGraft([...head, ...kept.slice(0, 13), 999, 5, 5], recorded, C), {
      head: 3,
      drop: 10,
      end: 16,
    });
  });

  it('finds nothing for a plain continuation, a prompt that is new, or a match shorter than the anchor', () => {
    assert.equal(findGraft([...recorded, 5, 6, 7], recorded, C), undefined);
    assert.equal(findGraft(range(300, 40), recorded, C), undefined);
    assert.equal(findGraft([...head, ...kept.slice(0, 5), 999, ...range(400, 20)], recorded, C), undefined);
  });

  it('finds nothing when no new whole chunk would be made', () => {
    const prompt = [...head, ...kept.slice(0, 9), 999, 1, 1];
    // the run ends at 12: a whole chunk of 4, but not of 16
    assert.deepEqual(findGraft(prompt, recorded, C), { head: 3, drop: 10, end: 12 });
    assert.equal(findGraft(prompt, recorded, 16), undefined);
  });
});

describe('TruncationReuse record', () => {
  const cache = new KvCache({ layers: 1, kvHeads: 1, headDim: 4, chunkTokens: C, capacityChunks: 4 });
  const request = (tokens: number[]) => ({ context: tokens }) as unknown as RequestState;

  function reuse(maxTokens: number) {
    return new TruncationReuse(cache, {
      maxTokens,
      chunkTokens: C,
      tiered: false,
      wake: () => {},
      drop: () => {},
    });
  }

  it('grafts a prompt that truncated a remembered conversation, under its salt only', () => {
    const t = reuse(100);
    const conv = [1, 2, 3, ...range(100, 10), ...range(200, 21)];
    t.remember('a', conv);
    const mine = request([1, 2, 3, ...range(200, 21), 9]);
    t.arrived(mine, 'a');
    const g = t.take(mine);
    assert.ok(g);
    assert.deepEqual({ head: g.graft.head, drop: g.graft.drop }, { head: 3, drop: 10 });
    assert.equal(g.graft.target.length, 24);
    // the source's rows up to 24 + 10 = 34, in whole chunks (capped at what was recorded)
    assert.deepEqual(g.graft.source, conv.slice(0, 34));
    assert.equal(t.take(mine), undefined, 'a graft is taken once');
    const other = request([1, 2, 3, ...range(200, 21), 9]);
    t.arrived(other, 'b');
    assert.equal(t.take(other), undefined, 'another tenant never reuses it');
  });

  it('keeps at most maxTokens, dropping the oldest and the conversations a newer one extends', () => {
    const t = reuse(40);
    const first = [1, 2, 3, ...range(100, 10), ...range(200, 21)]; // 34 tokens
    t.remember('', first);
    t.remember('', [...first, 5]); // extends it: replaces it, 35 tokens
    const p = request([1, 2, 3, ...range(200, 21), 9]);
    t.arrived(p, '');
    assert.ok(t.take(p), 'the extended conversation is remembered');
    t.remember('', range(600, 30)); // 35 + 30 > 40: the oldest goes
    const q = request([1, 2, 3, ...range(200, 21), 9]);
    t.arrived(q, '');
    assert.equal(t.take(q), undefined);
    t.remember('', range(700, 41)); // longer than the bound: not remembered at all
    const r = request([...range(700, 5), ...range(720, 20), 1]);
    t.arrived(r, '');
    assert.equal(t.take(r), undefined);
  });
});
