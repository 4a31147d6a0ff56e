// The native forward pass against a float64 reference over random models:
// both RoPE layouts and scalings, GQA, q/k/v biases, tied and separate
// classifiers, head sizes on and off the vector path; steps that mix prefill,
// cached prefixes and decoding, in TPP and baseline mode.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type DecodeMode,
  InvalidArgumentError,
  KvCache,
  type LoadedModel,
  Model,
  type ModelConfig,
  native,
  UnknownSequenceError,
} from '../lib/index.ts';
import { Rng } from './support/random.ts';
import { randomModel, referenceLogits } from './support/reference-model.ts';

const BASE: ModelConfig = {
  modelId: 'reference',
  family: 'llama',
  dim: 48,
  hiddenDim: 40,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 16,
  vocabSize: 50,
  maxSeqLen: 128,
  normEps: 1e-5,
  ropeTheta: 10000,
  ropeLayout: 'halves',
  tiedEmbeddings: false,
  qkvBias: false,
  eosTokenIds: [],
};

const CASES: Record<string, Partial<ModelConfig>> = {
  'halves, q/k/v biases (qwen2)': { family: 'qwen2', qkvBias: true },
  'pairs, tied, head dim 8, one KV head': {
    ropeLayout: 'pairs',
    tiedEmbeddings: true,
    dim: 32,
    headDim: 8,
    kvHeads: 1,
  },
  'linear rope scaling': { ropeScaling: { type: 'linear', factor: 4 } },
  // wavelengths 6.3, 19.9, 62.8...: one kept, one smoothed, the rest slowed
  'llama3 rope scaling': {
    ropeTheta: 10000,
    ropeScaling: {
      type: 'llama3',
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 32,
    },
  },
  'head dim not dim / heads': { dim: 40, headDim: 16, heads: 4, kvHeads: 4 },
  // big enough for the threaded, multi-block matmul path
  'wider model': { dim: 128, hiddenDim: 344, heads: 8, kvHeads: 2, headDim: 16, vocabSize: 300 },
};

function newCache(c: ModelConfig, vocabSize = c.vocabSize): KvCache {
  return new KvCache({
    layers: c.layers,
    kvHeads: c.kvHeads,
    headDim: c.headDim,
    chunkTokens: 4,
    capacityChunks: 256,
    vocabSize,
    threads: 2,
  });
}

function assertClose(actual: Float32Array, expected: Float64Array, label: string): void {
  assert.equal(actual.length, expected.length, label);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i] as number));
    err = Math.max(err, Math.abs((actual[i] as number) - (expected[i] as number)));
  }
  assert.ok(err <= 1e-4 * scale, `${label}: max error ${err} against logits up to ${scale}`);
}

/** Sequences advanced step by step through the model, each checked against the reference. */
class Checker {
  readonly tokens = new Map<number, number[]>();
  constructor(
    private readonly loaded: LoadedModel,
    private readonly model: Model,
    private readonly mode: DecodeMode,
  ) {}

  /** Starts a sequence on its cached prefix; the caller's first step brings the rest of the prompt. */
  add(prompt: number[]): { seqId: number; cachedTokens: number } {
    const r = this.model.cache.addSequence(prompt, { maxMatchTokens: prompt.length - 1 });
    this.tokens.set(r.seqId, prompt.slice(0, r.cachedTokens));
    return r;
  }

  /** One step: appends each sequence's new tokens, runs the model, checks every row of logits. */
  async step(batch: [seqId: number, newTokens: number[]][]): Promise<void> {
    for (const [id, toks] of batch) {
      this.model.cache.append(id, toks);
      this.tokens.get(id)?.push(...toks);
    }
    const logits = await this.model.step(
      batch.map(([id]) => id),
      batch.flatMap(([, toks]) => toks),
      batch.map(([, toks]) => toks.length),
      this.mode,
    );
    const vocab = this.loaded.config.vocabSize;
    batch.forEach(([id], i) => {
      const expected = referenceLogits(this.loaded, this.tokens.get(id) as number[]);
      assertClose(logits.subarray(i * vocab, (i + 1) * vocab), expected, `sequence ${id} row ${i}`);
    });
  }
}

describe('Model.step equals the float64 reference forward pass', () => {
  for (const [name, overrides] of Object.entries(CASES)) {
    for (const mode of ['tpp', 'baseline'] as const) {
      it(`${name} (${mode})`, async () => {
        const rng = new Rng(name.length * 31 + mode.length);
        const config = { ...BASE, ...overrides };
        const loaded = randomModel(config, rng);
        const model = Model.create(loaded, newCache(config));
        const check = new Checker(loaded, model, mode);
        const wide = config.dim >= 128;
        const a = rng.tokens(wide ? 70 : 11, config.vocabSize);
        const b = [...a.slice(0, 8), ...rng.tokens(5, config.vocabSize)];
        const sa = check.add(a);
        const sb = check.add(b);
        await check.step([
          [sa.seqId, a.slice(sa.cachedTokens)],
          [sb.seqId, b.slice(sb.cachedTokens)],
        ]);
        // a third prompt on the cached chunks of the first two, prefilled while they decode
        const c = [...a.slice(0, 8), ...rng.tokens(3, config.vocabSize)];
        const sc = check.add(c);
        assert.equal(sc.cachedTokens, 8);
        await check.step([
          [sa.seqId, rng.tokens(1, config.vocabSize)],
          [sc.seqId, c.slice(sc.cachedTokens)],
          [sb.seqId, rng.tokens(1, config.vocabSize)],
        ]);
        for (let i = 0; i < 4; i++) {
          await check.step([sa.seqId, sb.seqId, sc.seqId].map((id) => [id, rng.tokens(1, config.vocabSize)]));
        }
      });
    }
  }

  it('stepSync and step give the same logits', async () => {
    const loaded = randomModel(BASE, new Rng(5));
    const prompt = new Rng(6).tokens(9, BASE.vocabSize);
    const run = async (sync: boolean) => {
      const model = Model.create(loaded, newCache(BASE));
      const { seqId } = model.cache.addSequence(prompt);
      model.cache.append(seqId, prompt);
      return sync
        ? model.stepSync([seqId], prompt, [prompt.length])
        : model.step([seqId], prompt, [prompt.length]);
    };
    assert.deepEqual(await run(true), await run(false));
  });
});

describe('Model rejects bad input with typed errors and changes nothing', () => {
  const loaded = randomModel(BASE, new Rng(9));
  // the cache does not range-check tokens, so the model's own check is what fails
  const setup = () => {
    const model = Model.create(loaded, newCache(BASE, 0));
    const { seqId } = model.cache.addSequence([]);
    return { model, seqId };
  };

  it('a token outside the vocabulary', async () => {
    const { model, seqId } = setup();
    model.cache.append(seqId, [3, BASE.vocabSize]);
    await assert.rejects(model.step([seqId], [3, BASE.vocabSize], [2]), InvalidArgumentError);
    assert.throws(() => model.stepSync([seqId], [3, BASE.vocabSize], [2]), InvalidArgumentError);
  });

  it('counts that do not match the sequences or the tokens', async () => {
    const { model, seqId } = setup();
    model.cache.append(seqId, [3, 4]);
    await assert.rejects(model.step([seqId], [3, 4], [1, 1]), /one entry per sequence/);
    await assert.rejects(model.step([seqId], [3, 4], [1]), InvalidArgumentError);
    await assert.rejects(model.step([seqId], [3, 4], [0]), InvalidArgumentError);
    await assert.rejects(model.step([], [], []), InvalidArgumentError);
  });

  it('an unknown or repeated sequence', async () => {
    const { model, seqId } = setup();
    model.cache.append(seqId, [3]);
    await assert.rejects(model.step([seqId + 100], [3], [1]), UnknownSequenceError);
    await assert.rejects(model.step([seqId, seqId], [3, 3], [1, 1]), InvalidArgumentError);
  });

  it('tokens that are not the ones appended to the sequence', async () => {
    const { model, seqId } = setup();
    model.cache.append(seqId, [3, 4]);
    await assert.rejects(model.step([seqId], [3, 5], [2]), /not the last tokens appended/);
    await assert.rejects(model.step([seqId], [1, 3, 4], [3]), InvalidArgumentError);
  });

  it('a position at or past maxSeqLen', async () => {
    const { model, seqId } = setup();
    const prompt = Array.from({ length: BASE.maxSeqLen + 1 }, (_, i) => i % BASE.vocabSize);
    model.cache.append(seqId, prompt);
    await assert.rejects(model.step([seqId], prompt, [prompt.length]), /maxSeqLen/);
  });

  it('a second step while one is in flight; the first still completes', async () => {
    const { model, seqId } = setup();
    model.cache.append(seqId, [3, 4]);
    const first = model.step([seqId], [3, 4], [2]);
    await assert.rejects(model.step([seqId], [3, 4], [2]), /in flight/);
    assert.throws(() => model.stepSync([seqId], [3, 4], [2]), InvalidArgumentError);
    assert.equal((await first).length, BASE.vocabSize);
  });

  it('after a rejected step the same sequence still computes correctly', async () => {
    const { model, seqId } = setup();
    model.cache.append(seqId, [3, 4, 5]);
    await assert.rejects(model.step([seqId], [3, 4, BASE.vocabSize], [3]), InvalidArgumentError);
    const logits = await model.step([seqId], [3, 4, 5], [3]);
    assertClose(logits, referenceLogits(loaded, [3, 4, 5]), 'after the rejected step');
  });

  it('a cache of another shape, a missing, misshapen or unexpected tensor, a bad config', () => {
    assert.throws(() => Model.create(loaded, newCache({ ...BASE, kvHeads: 4 })), /KvCache holds/);
    const without = new Map(loaded.tensors);
    without.delete('layers.1.w2');
    assert.throws(
      () => Model.create({ ...loaded, tensors: without }, newCache(BASE)),
      /'layers.1.w2' is missing/,
    );
    const short = new Map(loaded.tensors).set('norm', new Float32Array(3));
    assert.throws(
      () => Model.create({ ...loaded, tensors: short }, newCache(BASE)),
      /'norm' must hold 48 floats/,
    );
    const extra = new Map(loaded.tensors).set('layers.0.bq', new Float32Array(64));
    assert.throws(() => Model.create({ ...loaded, tensors: extra }, newCache(BASE)), /unexpected tensor/);
    const odd = { ...loaded, config: { ...BASE, heads: 3 } };
    assert.throws(() => Model.create(odd, newCache(BASE)), InvalidArgumentError);
    const scaling = { ...loaded, config: { ...BASE, ropeScaling: { type: 'llama3' as const, factor: 8 } } };
    assert.throws(() => Model.create(scaling, newCache(BASE)), /lowFreqFactor/);
  });

  it('a cache argument that is not a native KvCache', () => {
    const tensors = Object.fromEntries(loaded.tensors);
    assert.throws(
      () => new native.Model(BASE, tensors, {} as never),
      (err: Error & { code?: string }) => err.code === 'CM_INVALID_ARGUMENT' && /KvCache/.test(err.message),
    );
  });
});
