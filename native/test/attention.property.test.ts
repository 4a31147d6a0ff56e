// TPP decode, the per-sequence baseline and prefill attention against plain
// softmax attention, over random trees, shapes, GQA ratios and batch sizes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvCache, type KvDType } from '../lib/index.ts';
import { Rng, seeds } from './support/random.ts';
import {
  insertPrompt,
  randomPrompts,
  referenceDecode,
  VOCAB,
  writeSynthetic,
} from './support/random-tree.ts';
import { maxRelativeError, referenceAttention } from './support/reference-attention.ts';
import { prefixHashes, syntheticKv } from './support/synthetic-kv.ts';

// fp32 storage: the kernels must match float64 softmax to 1e-5 relative.
// fp16 storage rounds K and V to 11 significant bits before the kernel sees
// them, bf16 to 8 (relative rounding 2^-9 per value, scores summed over d).
const TOLERANCE: Record<KvDType, number> = { f32: 1e-5, f16: 4e-3, bf16: 3e-2 };

interface Shape {
  headDim: number;
  group: number;
  kvHeads: number;
  c: number;
  batch: number;
  dtype: KvDType;
}

function shapes(): Shape[] {
  const out: Shape[] = [];
  let i = 0;
  for (const headDim of [8, 64, 128]) {
    for (const group of [1, 2, 4, 8]) {
      const rng = new Rng(7 * headDim + group);
      out.push({
        headDim,
        group,
        kvHeads: rng.pick([1, 2]),
        c: rng.pick([4, 16, 64]),
        batch: [1, 64, rng.int(2, 40)][i % 3] as number,
        dtype: i % 4 === 3 ? 'f16' : i % 4 === 1 ? 'bf16' : 'f32',
      });
      i++;
    }
  }
  return out;
}

function newCache(s: Shape, chunks: number): KvCache {
  return new KvCache({
    layers: 2,
    kvHeads: s.kvHeads,
    headDim: s.headDim,
    chunkTokens: s.c,
    capacityChunks: chunks,
    dtype: s.dtype,
    vocabSize: VOCAB,
    threads: 2,
  });
}

describe('decode attention (TPP and baseline) equals reference softmax attention', () => {
  for (const shape of shapes()) {
    for (const seed of seeds(3)) {
      const label = `d=${shape.headDim} gqa=${shape.group} kvHeads=${shape.kvHeads} c=${shape.c} batch=${shape.batch} ${shape.dtype} seed=${seed}`;
      it(label, () => {
        const rng = new Rng(seed * 31 + shape.headDim + shape.group);
        const geometry = { layers: 2, kvHeads: shape.kvHeads, headDim: shape.headDim };
        const prompts = randomPrompts(rng, shape.c, shape.batch);
        const cache = newCache(
          shape,
          prompts.reduce((n, p) => n + Math.ceil((p.length + 1) / shape.c) + 1, 0),
        );
        const ids = prompts.map((p) => insertPrompt(cache, geometry, p).seqId);
        // About half the sequences get a decode token whose KV sits in the private tail.
        prompts.forEach((p, b) => {
          if (rng.next() < 0.5) {
            const pos = p.length;
            p.push(rng.int(0, VOCAB - 1));
            cache.append(ids[b] as number, [p[pos] as number]);
            writeSynthetic(cache, geometry, ids[b] as number, p, pos);
          }
        });
        const nHeads = shape.kvHeads * shape.group;
        const layer = rng.int(0, 1);
        const q = rng.floats(prompts.length * nHeads * shape.headDim);
        const expected = referenceDecode(geometry, prompts, layer, nHeads, q);
        const tpp = cache.decode(ids, layer, nHeads, q, 'tpp');
        const baseline = cache.decode(ids, layer, nHeads, q, 'baseline');
        const tol = TOLERANCE[shape.dtype];
        const eTpp = maxRelativeError(tpp, expected, shape.headDim);
        const eBase = maxRelativeError(baseline, expected, shape.headDim);
        assert.ok(eTpp <= tol, `TPP error ${eTpp} > ${tol}`);
        assert.ok(eBase <= tol, `baseline error ${eBase} > ${tol}`);
        if (shape.batch > 1 && prompts.some((p) => p.length >= 2 * shape.c)) {
          assert.ok(
            cache.decodeCost(ids, nHeads, 'tpp').kvBytes <= cache.decodeCost(ids, nHeads, 'baseline').kvBytes,
          );
        }
      });
    }
  }

  it('sequences whose whole path is shared (empty private part) get the shared result, not NaN', () => {
    const shape: Shape = { headDim: 64, group: 4, kvHeads: 2, c: 16, batch: 3, dtype: 'f32' };
    const geometry = { layers: 2, kvHeads: 2, headDim: 64 };
    const rng = new Rng(5);
    const prompt = rng.tokens(3 * shape.c, VOCAB);
    const cache = newCache(shape, 16);
    const ids = [0, 1, 2].map(() => insertPrompt(cache, geometry, prompt).seqId);
    const q = rng.floats(3 * 8 * 64);
    const out = cache.decode(ids, 1, 8, q, 'tpp');
    assert.ok(out.every(Number.isFinite));
    const err = maxRelativeError(out, referenceDecode(geometry, [prompt, prompt, prompt], 1, 8, q), 64);
    assert.ok(err <= 1e-5, `error ${err}`);
    assert.equal(cache.decodeCost(ids, 8, 'tpp').sharedRuns, 1);
  });

  it('different salts never share a run, and mixing them in one batch stays exact', () => {
    const geometry = { layers: 2, kvHeads: 1, headDim: 64 };
    const cache = newCache({ headDim: 64, group: 1, kvHeads: 1, c: 16, batch: 4, dtype: 'f32' }, 32);
    const rng = new Rng(9);
    const prompt = rng.tokens(40, VOCAB);
    const ids: number[] = [];
    for (const salt of ['a', 'a', 'b', 'b']) {
      const r = cache.addSequence(prompt, { salt });
      cache.append(r.seqId, prompt.slice(r.cachedTokens));
      writeSynthetic(cache, geometry, r.seqId, prompt, r.cachedTokens);
      cache.commit(r.seqId);
      ids.push(r.seqId);
    }
    assert.equal(cache.decodeCost(ids, 1, 'tpp').sharedRuns, 2);
    const q = rng.floats(4 * 64);
    const err = maxRelativeError(
      cache.decode(ids, 0, 1, q, 'tpp'),
      referenceDecode(geometry, Array(4).fill(prompt), 0, 1, q),
      64,
    );
    assert.ok(err <= 1e-5, `error ${err}`);
  });
});

describe('prefill attention equals causal reference attention', () => {
  for (const shape of shapes()) {
    for (const seed of seeds(1)) {
      it(`d=${shape.headDim} gqa=${shape.group} c=${shape.c} ${shape.dtype} seed=${seed}`, () => {
        const rng = new Rng(seed + shape.headDim * 13 + shape.group);
        const geometry = { layers: 2, kvHeads: shape.kvHeads, headDim: shape.headDim };
        const c = shape.c;
        const cache = newCache(shape, 64);
        // A cached prefix (maybe none), then a new part of any length, sometimes a single token.
        const prefix = rng.tokens(rng.pick([0, c, 2 * c + rng.int(0, c - 1)]), VOCAB);
        if (prefix.length > 0) cache.release(insertPrompt(cache, geometry, prefix).seqId);
        const prompt = [...prefix, ...rng.tokens(rng.pick([1, rng.int(2, 3 * c + 5)]), VOCAB)];
        const { seqId, cachedTokens } = cache.addSequence(prompt);
        assert.equal(cachedTokens, Math.floor(prefix.length / c) * c);
        cache.append(seqId, prompt.slice(cachedTokens));
        writeSynthetic(cache, geometry, seqId, prompt, cachedTokens);
        const nNew = prompt.length - cachedTokens;
        const nHeads = shape.kvHeads * shape.group;
        const layer = rng.int(0, 1);
        const q = rng.floats(nNew * nHeads * shape.headDim);
        const out = cache.prefill(seqId, layer, nHeads, q);
        const hashes = prefixHashes(prompt);
        const dense = syntheticKv(geometry, hashes, layer, 0, prompt.length);
        const expected = referenceAttention(
          { ...dense, len: prompt.length },
          q,
          nNew,
          nHeads,
          shape.kvHeads,
          shape.headDim,
          (t) => cachedTokens + t + 1,
        );
        const err = maxRelativeError(out, expected, shape.headDim);
        assert.ok(err <= TOLERANCE[shape.dtype], `prefill error ${err}`);
      });
    }
  }
});
