// The native forward pass against a float64 reference over random models:
// both RoPE layouts and scalings, GQA, q/k/v biases, tied and separate
// classifiers, head sizes on and off the vector path; steps that mix prefill,
// cached prefixes and decoding, in TPP and baseline mode; the step request's
// admission, budget, memory-pressure and error semantics; dispose().
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
  type StepEntry,
  type StepOutcome,
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

function newCache(c: ModelConfig, vocabSize = c.vocabSize, capacityChunks = 256): KvCache {
  return new KvCache({
    layers: c.layers,
    kvHeads: c.kvHeads,
    headDim: c.headDim,
    chunkTokens: 4,
    capacityChunks,
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

/** Sequences advanced step by step through the model, every row of logits checked against the reference. */
class Checker {
  readonly tokens = new Map<number, number[]>();
  constructor(
    private readonly loaded: LoadedModel,
    readonly model: Model,
    private readonly mode: DecodeMode,
  ) {}

  /** Runs one step; returns its outcomes after checking the logits of every entry that has them. */
  async step(entries: StepEntry[], tokenBudget?: number): Promise<StepOutcome[]> {
    const { entries: out } = await this.model.step({
      entries,
      mode: this.mode,
      ...(tokenBudget === undefined ? {} : { tokenBudget }),
    });
    entries.forEach((e, i) => {
      const o = out[i] as StepOutcome;
      if (e.kind === 'admit') {
        if (!o.admitted) return;
        this.tokens.set(o.seqId, Array.from(e.tokens).slice(0, o.cachedTokens + o.computed));
      } else {
        const given = e.kind === 'decode' ? [e.token] : Array.from(e.tokens);
        this.tokens.get(e.seqId)?.push(...given.slice(0, o.computed));
      }
      assert.equal(Boolean(o.logitsRow), o.logits, `entry ${i}: logits present iff reported`);
      if (o.logitsRow) {
        const expected = referenceLogits(this.loaded, this.tokens.get(o.seqId) as number[]);
        assertClose(o.logitsRow, expected, `sequence ${o.seqId} (entry ${i})`);
      }
    });
    return out;
  }
}

const admit = (tokens: number[]): StepEntry => ({ kind: 'admit', tokens, maxMatch: tokens.length - 1 });
const decode = (seqId: number, token: number): StepEntry => ({ kind: 'decode', seqId, token });

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
        const [oa, ob] = await check.step([admit(a), admit(b)]);
        const sa = (oa as StepOutcome).seqId;
        const sb = (ob as StepOutcome).seqId;
        // a third prompt on the cached chunks of the first two, prefilled while they decode
        const c = [...a.slice(0, 8), ...rng.tokens(3, config.vocabSize)];
        const out = await check.step([
          decode(sa, rng.int(0, config.vocabSize - 1)),
          admit(c),
          decode(sb, rng.int(0, config.vocabSize - 1)),
        ]);
        assert.equal(out[1]?.cachedTokens, 8);
        const sc = (out[1] as StepOutcome).seqId;
        for (let i = 0; i < 4; i++) {
          await check.step([sa, sb, sc].map((id) => decode(id, rng.int(0, config.vocabSize - 1))));
        }
      });
    }
  }

  it('chunked prefill under a token budget equals prefill in one step', async () => {
    const rng = new Rng(21);
    const loaded = randomModel(BASE, rng);
    const check = new Checker(loaded, Model.create(loaded, newCache(BASE)), 'tpp');
    const p = rng.tokens(23, BASE.vocabSize);
    const q = rng.tokens(6, BASE.vocabSize);
    const [op, oq] = await check.step([admit(p), admit(q)], 10);
    assert.deepEqual(
      [op?.computed, op?.logits, oq?.admitted, oq?.computed],
      [10, false, true, 0],
      'the budget goes to the first entry; the second is admitted and waits',
    );
    const sp = (op as StepOutcome).seqId;
    const sq = (oq as StepOutcome).seqId;
    const [rp, rq] = await check.step(
      [
        { kind: 'prefill', seqId: sp, tokens: p.slice(10) },
        { kind: 'prefill', seqId: sq, tokens: q },
      ],
      13,
    );
    assert.deepEqual([rp?.computed, rp?.logits, rq?.computed], [13, true, 0]);
    const [one] = await check.step([{ kind: 'prefill', seqId: sq, tokens: q }], 0);
    assert.deepEqual([one?.computed, one?.logits], [1, false], 'a step always makes progress');
    const [rest] = await check.step([{ kind: 'prefill', seqId: sq, tokens: q.slice(1) }], 100);
    assert.deepEqual([rest?.computed, rest?.logits], [5, true]);
  });

  it('stepSync and step give the same logits', async () => {
    const loaded = randomModel(BASE, new Rng(5));
    const prompt = new Rng(6).tokens(9, BASE.vocabSize);
    const run = async (sync: boolean) => {
      const model = Model.create(loaded, newCache(BASE));
      const r = sync
        ? model.stepSync({ entries: [admit(prompt)] })
        : await model.step({ entries: [admit(prompt)] });
      return r.entries[0]?.logitsRow;
    };
    assert.deepEqual(await run(true), await run(false));
  });
});

describe('Model.step under memory pressure', () => {
  const loaded = randomModel(BASE, new Rng(31));

  it('admits first come, first served while the uncached part fits, and reports entries with no room', async () => {
    // 6 chunks of 4 tokens
    const model = Model.create(loaded, newCache(BASE, BASE.vocabSize, 6));
    const rng = new Rng(32);
    const big = rng.tokens(14, BASE.vocabSize); // 4 chunks
    const small = rng.tokens(3, BASE.vocabSize);
    const first = await model.step({ entries: [admit(big), admit(small), admit(small)] });
    assert.deepEqual(
      first.entries.map((e) => e.admitted),
      [true, false, false],
      'the second would leave no chunk for decode growth, so admission stops there',
    );
    const seq = first.entries[0]?.seqId as number;
    // grow the sequence until the pool is full: 14 + 10 tokens = 6 chunks
    let stats = model.cache.stats();
    for (let t = 0; t < 10; t++) await model.step({ entries: [decode(seq, 1)] });
    stats = model.cache.stats();
    assert.equal(stats.freeChunks + stats.cachedNodes, 0);
    const full = await model.step({ entries: [decode(seq, 1)] });
    assert.deepEqual([full.entries[0]?.noRoom, full.entries[0]?.computed, full.rows], [true, 0, 0]);
    assert.equal(model.cache.sequenceLength(seq), 24, 'nothing appended for an entry with no room');
    await model.step({ release: [seq], entries: [] });
    assert.equal(model.cache.stats().sequences, 0);
  });
});

describe('Model.step grafts (truncation reuse)', () => {
  const loaded = randomModel(BASE, new Rng(12));
  const conversation = Array.from({ length: 30 }, (_, i) => 3 + i); // chunks of 4: 7 whole
  // the client dropped tokens [4, 10) after a head of 4
  const target = [...conversation.slice(0, 4), ...conversation.slice(10)];

  it('run first, so the same step admits what they made; a graft made once makes nothing again', async () => {
    const model = Model.create(loaded, newCache(BASE));
    const first = await model.step({ entries: [admit(conversation)] });
    await model.step({ release: [first.entries[0]?.seqId as number], entries: [] });
    const graft = { source: conversation, target: target.slice(0, 20), head: 4, drop: 6 };
    const r = await model.step({ grafts: [graft], entries: [admit(target)] });
    // the conversation's 28 cached tokens cover target rows up to 22: whole chunks 1..4 past the head's
    assert.deepEqual(r.grafted, [16]);
    assert.equal(r.entries[0]?.cachedTokens, 20);
    const again = await model.step({ grafts: [graft], entries: [] });
    assert.deepEqual(again.grafted, [0]);
  });

  it('refuses a graft whose target is not its source moved, or a token past the vocabulary', async () => {
    const model = Model.create(loaded, newCache(BASE, 0));
    const wrong = { source: conversation, target: [...target.slice(0, 5), 99], head: 4, drop: 6 };
    await assert.rejects(model.step({ grafts: [wrong], entries: [] }), InvalidArgumentError);
    const outside = {
      source: [...conversation, BASE.vocabSize],
      target: target.slice(0, 8),
      head: 4,
      drop: 6,
    };
    await assert.rejects(model.step({ grafts: [outside], entries: [] }), /outside the vocabulary/);
    await assert.rejects(
      model.step({ grafts: [{ ...wrong, target: target.slice(0, 8), drop: 0 }], entries: [] }),
      InvalidArgumentError,
    );
  });
});

describe('Model rejects bad input with typed errors', () => {
  const loaded = randomModel(BASE, new Rng(9));
  // the cache does not range-check tokens, so the model's own check is what fails
  const setup = async () => {
    const model = Model.create(loaded, newCache(BASE, 0));
    const r = await model.step({ entries: [admit([3, 4, 5, 6, 7])] });
    return { model, seqId: r.entries[0]?.seqId as number };
  };

  it('a token outside the vocabulary', async () => {
    const { model } = await setup();
    const bad = { entries: [admit([3, BASE.vocabSize])] };
    await assert.rejects(model.step(bad), InvalidArgumentError);
    assert.throws(() => model.stepSync(bad), InvalidArgumentError);
  });

  it('entries of the wrong shape', async () => {
    const { model, seqId } = await setup();
    await assert.rejects(model.step({ entries: [{ kind: 'prefill', seqId, tokens: [] }] }), /has no tokens/);
    await assert.rejects(model.step({ entries: [admit([])] }), InvalidArgumentError);
    await assert.rejects(
      model.step({ entries: [{ kind: 'bogus' } as unknown as StepEntry] }),
      /kind must be 'decode', 'prefill' or 'admit'/,
    );
    const empty = await model.step({ entries: [] });
    assert.equal(empty.rows, 0, 'a step with nothing to do is fine');
  });

  it('an unknown or repeated sequence', async () => {
    const { model, seqId } = await setup();
    await assert.rejects(model.step({ entries: [decode(seqId + 100, 3)] }), UnknownSequenceError);
    await assert.rejects(model.step({ release: [seqId + 100], entries: [] }), UnknownSequenceError);
    await assert.rejects(model.step({ entries: [decode(seqId, 3), decode(seqId, 3)] }), /appears twice/);
  });

  it('a position at or past maxSeqLen', async () => {
    const { model } = await setup();
    const prompt = Array.from({ length: BASE.maxSeqLen + 1 }, (_, i) => i % BASE.vocabSize);
    await assert.rejects(model.step({ entries: [admit(prompt)] }), /maxSeqLen/);
  });

  it('a second step while one is in flight; the first still completes', async () => {
    const { model, seqId } = await setup();
    const first = model.step({ entries: [decode(seqId, 6)] });
    await assert.rejects(model.step({ entries: [decode(seqId, 6)] }), /in flight/);
    assert.throws(() => model.stepSync({ entries: [decode(seqId, 6)] }), InvalidArgumentError);
    assert.throws(() => model.dispose(), /in flight/);
    assert.equal((await first).entries[0]?.logitsRow?.length, BASE.vocabSize);
  });

  it('a failed step releases the sequences it named, and leaves the others and the tree intact', async () => {
    const { model, seqId } = await setup();
    const other = (await model.step({ entries: [admit([7, 8, 9, 10, 11])] })).entries[0]?.seqId as number;
    await assert.rejects(model.step({ entries: [decode(seqId, BASE.vocabSize)] }), InvalidArgumentError);
    assert.throws(() => model.cache.sequenceLength(seqId), UnknownSequenceError);
    assert.equal(model.cache.sequenceLength(other), 5);
    // the failed sequence's committed chunk stays cached, and a new admission reuses it correctly
    const check = new Checker(loaded, model, 'tpp');
    const [again] = await check.step([admit([3, 4, 5, 6, 9])]);
    assert.equal(again?.cachedTokens, 4);
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

describe('dispose() frees native memory at once', () => {
  const loaded = randomModel(BASE, new Rng(41));

  it('a cache refuses to go while its model lives; afterwards both refuse every call', async () => {
    const cache = newCache(BASE);
    const model = Model.create(loaded, cache);
    await model.step({ entries: [admit([1, 2, 3, 4, 5])] });
    assert.throws(() => cache.dispose(), /dispose the Model/);
    model.dispose();
    await assert.rejects(model.step({ entries: [admit([1, 2])] }), /disposed/);
    cache.dispose();
    assert.throws(() => cache.stats(), /disposed/);
    assert.throws(() => cache.addSequence([1]), InvalidArgumentError);
    model.dispose(); // idempotent
    cache.dispose();
  });
});
