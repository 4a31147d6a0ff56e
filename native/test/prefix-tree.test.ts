// Tree operations through the public KvCache: match, append, commit, fork,
// release, LRU eviction, salts, events, stats and typed errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CapacityExhaustedError,
  chunkKeyRoot,
  chunkKeys,
  InvalidArgumentError,
  KvCache,
  type KvEvent,
  UnknownSequenceError,
} from '../lib/index.ts';
import { Rng } from './support/random.ts';
import { insertPrompt, VOCAB } from './support/random-tree.ts';

const C = 4;
const G = { layers: 2, kvHeads: 2, headDim: 8 };
const TOKEN_BYTES = G.layers * 2 * G.kvHeads * G.headDim * 4;

function cache(capacityChunks: number, modelId = 'test-model'): KvCache {
  return new KvCache({ ...G, chunkTokens: C, capacityChunks, modelId, vocabSize: VOCAB, threads: 1 });
}

function keysOf(events: KvEvent[], op: KvEvent['op']): bigint[] {
  return events.filter((e) => e.op === op).flatMap((e) => [...e.keys]);
}

const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

describe('prefix tree', () => {
  it('matches full cached chunks by token ids and reports them for the caller to skip', () => {
    const kv = cache(16);
    const prompt = range(14); // 3 full chunks + 2 tokens
    const a = insertPrompt(kv, G, prompt);
    assert.equal(a.cachedTokens, 0);
    kv.release(a.seqId);
    const b = kv.addSequence(prompt);
    assert.equal(b.cachedTokens, 12);
    assert.equal(kv.sequenceLength(b.seqId), 12);
    assert.equal(kv.matchLength([...range(8), 99, 98, 97, 96]), 8, 'diverging in chunk 3 matches 2 chunks');
    assert.equal(
      kv.addSequence(prompt, { maxMatchTokens: 11 }).cachedTokens,
      8,
      'maxMatchTokens caps the match',
    );
    assert.equal(kv.matchLength([2, ...range(13, 2)]), 0, 'a different first token matches nothing');
  });

  it('publishes stored keys equal to chunkKeys() of the same tokens, salt and model', () => {
    const kv = cache(16);
    const prompt = range(9);
    insertPrompt(kv, G, prompt);
    const stored = keysOf(kv.drainEvents(), 'stored');
    const expected = [...chunkKeys({ modelId: 'test-model', chunkTokens: C, salt: '' }, prompt)];
    assert.deepEqual(stored, expected);
    assert.equal(kv.rootKey(''), chunkKeyRoot({ modelId: 'test-model', chunkTokens: C, salt: '' }));
    assert.deepEqual(kv.drainEvents(), [], 'drained events are gone');
  });

  it('turns a filled tail into a node on commit, and adopts an identical twin instead of a copy', () => {
    const kv = cache(16);
    const prompt = range(8);
    const a = kv.addSequence(prompt);
    const b = kv.addSequence(prompt); // added before a committed: no match, its own private chunks
    assert.equal(b.cachedTokens, 0);
    for (const s of [a, b]) kv.append(s.seqId, prompt);
    assert.equal(kv.stats().tailChunks, 4);
    kv.commit(a.seqId);
    kv.commit(b.seqId);
    const s = kv.stats();
    assert.equal(s.tailChunks, 0);
    assert.equal(s.pinnedNodes, 2, 'b adopted a’s two nodes');
    assert.equal(s.freeChunks, 14, 'b’s copies went back to the pool');
    assert.equal(keysOf(kv.drainEvents(), 'stored').length, 2, 'each chunk stored once');
  });

  it('forks a sequence: shared full chunks, a copied private tail', () => {
    const kv = cache(16);
    const prompt = range(6);
    const a = insertPrompt(kv, G, prompt);
    const f = kv.fork(a.seqId);
    assert.equal(kv.sequenceLength(f), 6);
    assert.deepEqual(kv.readKV(f, 1, 0, 6), kv.readKV(a.seqId, 1, 0, 6));
    kv.append(f, [500]);
    kv.append(a.seqId, [600]);
    kv.writeKV(f, 0, 6, new Float32Array(16).fill(1), new Float32Array(16).fill(2));
    assert.notDeepEqual(kv.readKV(f, 0, 6, 1), kv.readKV(a.seqId, 0, 6, 1), 'tails are independent');
    const s = kv.stats();
    assert.equal(s.pinnedNodes, 1);
    assert.equal(s.tailChunks, 2);
  });

  it('keeps released chunks cached (unpinned) and accounts logical vs physical bytes', () => {
    const kv = cache(32);
    const system = range(16);
    const ids = [1, 2, 3].map((i) => insertPrompt(kv, G, [...system, 100 + i, 200 + i]).seqId);
    let s = kv.stats();
    assert.equal(s.logicalBytes, 3 * 18 * TOKEN_BYTES);
    assert.equal(s.physicalBytes, (4 + 3) * s.chunkBytes, 'four shared chunks + three private tails');
    assert.equal(s.pinnedNodes, 4);
    for (const id of ids) kv.release(id);
    s = kv.stats();
    assert.deepEqual([s.pinnedNodes, s.cachedNodes, s.tailChunks, s.logicalBytes], [0, 4, 0, 0]);
    assert.equal(s.freeChunks, 28);
  });

  it('evicts unpinned leaves least-recently-used first, bottom-up, and reports removed keys', () => {
    const kv = cache(6);
    const a = [...range(8, 1)]; // 2 chunks
    const b = [...range(8, 101)]; // 2 chunks
    kv.release(insertPrompt(kv, G, a).seqId);
    kv.release(insertPrompt(kv, G, b).seqId);
    kv.drainEvents();
    kv.addSequence(b).seqId; // touches b: a is now least recently used
    const c = kv.addSequence(range(12, 201));
    kv.append(c.seqId, range(12, 201)); // 3 chunks: 2 free + evict 1
    const removed = keysOf(kv.drainEvents(), 'removed');
    const aKeys = [...chunkKeys({ modelId: 'test-model', chunkTokens: C, salt: '' }, a)];
    assert.deepEqual(removed, [aKeys[1]], 'a’s leaf goes first; its parent stays');
    assert.equal(kv.stats().evictions, 1);
    assert.equal(kv.matchLength(a), 4);
  });

  it('raises CapacityExhaustedError when everything is pinned, changing nothing', () => {
    const kv = cache(3);
    const s = kv.addSequence(range(8));
    kv.append(s.seqId, range(8));
    const { jobs, ...before } = kv.stats();
    assert.throws(() => kv.append(s.seqId, range(5, 9)), CapacityExhaustedError);
    const { jobs: jobsAfter, ...after } = kv.stats();
    assert.deepEqual(after, before);
    assert.equal(jobsAfter, jobs + 1, 'the failed append ran, and published, on the owner thread');
    assert.equal(kv.sequenceLength(s.seqId), 8);
    assert.throws(
      () => kv.fork(s.seqId),
      CapacityExhaustedError,
      'the copied tail needs 2 chunks, 1 is free',
    );
    assert.equal(kv.stats().sequences, 1);
  });

  it('never shares nodes across tenant salts', () => {
    const kv = cache(16);
    const prompt = range(8);
    const a = kv.addSequence(prompt, { salt: 'tenant-a' });
    kv.append(a.seqId, prompt);
    kv.commit(a.seqId);
    assert.equal(kv.addSequence(prompt, { salt: 'tenant-b' }).cachedTokens, 0);
    assert.equal(kv.addSequence(prompt, { salt: 'tenant-a' }).cachedTokens, 8);
    assert.equal(kv.matchLength(prompt, 'tenant-b'), 0);
  });

  it('clears every cached node only when no sequence is live, with a cleared event', () => {
    const kv = cache(8);
    const s = insertPrompt(kv, G, range(8));
    assert.throws(() => kv.clear(), InvalidArgumentError);
    kv.release(s.seqId);
    kv.drainEvents();
    kv.clear();
    assert.deepEqual(
      kv.drainEvents().map((e) => e.op),
      ['cleared'],
    );
    assert.equal(kv.stats().freeChunks, 8);
    assert.equal(kv.matchLength(range(8)), 0);
  });

  it('survives random operation sequences with consistent accounting', () => {
    const rng = new Rng(42);
    const kv = cache(40);
    const live = new Map<number, number[]>();
    for (let step = 0; step < 600; step++) {
      const op = rng.int(0, 9);
      try {
        if (op < 4 || live.size === 0) {
          const base = rng.pick([range(8), range(12, 50), range(3, 90)]);
          const prompt = [...base, ...rng.tokens(rng.int(0, 6), 20)];
          const r = kv.addSequence(prompt);
          live.set(r.seqId, prompt.slice(0, r.cachedTokens));
          kv.append(r.seqId, prompt.slice(r.cachedTokens));
          live.set(r.seqId, prompt);
          kv.commit(r.seqId);
        } else if (op < 6) {
          const id = rng.pick([...live.keys()]);
          kv.append(id, [rng.int(0, 20)]);
          (live.get(id) as number[]).push(0);
          kv.commit(id);
        } else if (op < 7) {
          const id = rng.pick([...live.keys()]);
          live.set(kv.fork(id), [...(live.get(id) as number[])]);
        } else {
          const id = rng.pick([...live.keys()]);
          kv.release(id);
          live.delete(id);
        }
      } catch (err) {
        assert.ok(err instanceof CapacityExhaustedError, String(err));
      }
      const s = kv.stats();
      assert.equal(s.sequences, live.size);
      assert.equal(s.pinnedNodes + s.cachedNodes + s.tailChunks + s.freeChunks, s.capacityChunks);
      assert.equal(s.logicalBytes, [...live.values()].reduce((n, p) => n + p.length, 0) * TOKEN_BYTES);
      for (const [id, p] of live) assert.equal(kv.sequenceLength(id), p.length);
    }
  });
});

describe('invalid input raises typed errors', () => {
  it('rejects bad options', () => {
    assert.throws(() => cache(0), InvalidArgumentError);
    assert.throws(() => new KvCache({ ...G, capacityChunks: 4, dtype: 'f8' as 'f32' }), /dtype/);
    assert.throws(() => new KvCache({ ...G, headDim: 0, capacityChunks: 4 }), InvalidArgumentError);
    assert.throws(() => new KvCache({ ...G }), /exactly one of capacityChunks and capacityBytes/);
    assert.throws(() => new KvCache({ ...G, capacityBytes: 10 }), /holds no chunk/);
  });

  it('rejects out-of-range and malformed tokens', () => {
    const kv = cache(4);
    assert.throws(() => kv.addSequence([1, VOCAB]), /outside the vocabulary/);
    assert.throws(() => kv.addSequence([1, -1]), InvalidArgumentError);
    assert.throws(() => kv.addSequence([1.5]), InvalidArgumentError);
    const s = kv.addSequence([1]);
    assert.throws(() => kv.append(s.seqId, [VOCAB + 5]), InvalidArgumentError);
    assert.equal(kv.sequenceLength(s.seqId), 0, 'rejected append changed nothing');
  });

  it('rejects unknown sequences', () => {
    const kv = cache(4);
    assert.throws(() => kv.append(77, [1]), UnknownSequenceError);
    assert.throws(() => kv.release(77), UnknownSequenceError);
    assert.throws(() => kv.decode([77], 0, 2, new Float32Array(16)), UnknownSequenceError);
    const s = kv.addSequence([1]);
    kv.release(s.seqId);
    assert.throws(() => kv.release(s.seqId), UnknownSequenceError, 'double release');
  });

  it('rejects wrong shapes for KV writes, decode and prefill', () => {
    const kv = cache(8);
    const s = insertPrompt(kv, G, range(5));
    assert.throws(() => kv.writeKV(s.seqId, 0, 0, new Float32Array(15), new Float32Array(15)), /multiple of/);
    assert.throws(
      () => kv.writeKV(s.seqId, 0, 4, new Float32Array(32), new Float32Array(32)),
      /past the sequence/,
    );
    assert.throws(() => kv.writeKV(s.seqId, 2, 0, new Float32Array(16), new Float32Array(16)), /layer 2/);
    assert.throws(() => kv.decode([s.seqId], 0, 3, new Float32Array(24)), /multiple of kvHeads/);
    assert.throws(() => kv.decode([s.seqId], 0, 2, new Float32Array(15)), /q must hold/);
    assert.throws(() => kv.decode([], 0, 2, new Float32Array(0)), /empty/);
    assert.throws(() => kv.decode([s.seqId, s.seqId], 0, 2, new Float32Array(32)), /twice/);
    assert.throws(() => kv.prefill(s.seqId, 0, 2, new Float32Array(6 * 16)), /prefill of 6 tokens/);
    assert.throws(() => kv.decode([s.seqId], 0, 2, new Float32Array(16), 'fast' as 'tpp'), /mode/);
    const empty = kv.addSequence([9]);
    assert.throws(() => kv.decode([empty.seqId], 0, 2, new Float32Array(16)), /no tokens/);
  });
});
