// The worker's decoding on the real stories260K model: reported logprobs are
// the log-softmax of the native model's own logits for the chosen tokens; n = 4
// prefills the prompt once and forks it (its KV chunks held once), each
// choice equal to its seed run alone; the logit processors do what they say.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORIES_DIR } from '@chunkmesh/test-support';
import type { GenerateEvent, GenerateInput, TokenLogprob } from '../../src/engine/engine-types.ts';
import { Penalties } from '../../src/sampling/penalties.ts';
import { TokenChooser } from '../../src/sampling/token-chooser.ts';
import { allowedCount, applyTokenMask } from '../../src/sampling/token-mask.ts';
import { createWorkerRuntime } from '../../src/worker-runtime.ts';

const EOS = 2;
const CHUNK = 16;
const PROMPT = Array.from({ length: 100 }, (_, i) => 300 + ((i * 7) % 150));

async function runtime() {
  return createWorkerRuntime({
    modelDir: STORIES_DIR,
    kvCapacityTokens: 16_384,
    chunkTokens: CHUNK,
    dtype: 'f32',
    threads: 2,
    engine: { prefixSharing: true, stepTokens: 256, maxBatch: 64, maxQueue: 64 },
  });
}

function chooser(seed: number, logprobs = false) {
  const sampling = { temperature: 1, topK: 0, topP: 1, seed };
  return new TokenChooser({ sampling, ...(logprobs ? { logprobs: { top: 3 } } : {}) }, PROMPT);
}

function input(choosers: TokenChooser[], maxTokens: number): GenerateInput {
  return {
    requestId: Math.random().toString(36).slice(2),
    promptTokens: PROMPT,
    sampling: { temperature: 1, topK: 0, topP: 1 },
    maxTokens,
    eosTokenIds: [],
    stopTokenIds: [],
    stopStrings: [],
    salt: Math.random().toString(36),
    choosers,
  };
}

async function drain(stream: AsyncIterable<GenerateEvent>) {
  const ids = new Map<number, number[]>();
  const logprobs: TokenLogprob[] = [];
  for await (const e of stream) {
    if (e.type === 'final') return { ids, logprobs, final: e };
    ids.set(e.index, [...(ids.get(e.index) ?? []), ...e.ids]);
    logprobs.push(...(e.logprobs ?? []));
  }
  throw new Error('no final event');
}

function logSoftmax(row: Float32Array, id: number): number {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  return (row[id] as number) - max - Math.log(sum);
}

describe('decoding on stories260K', () => {
  it('logprobs are the log-softmax of the native model logits for the chosen tokens', async () => {
    const rt = await runtime();
    try {
      const r = await drain(rt.engine.generate(input([chooser(7, true)], 12)));
      const ids = r.ids.get(0) ?? [];
      assert.equal(r.logprobs.length, ids.length);
      await rt.engine.idle();
      // the same tokens through the model directly, no engine, no prefix match
      let step = rt.model.stepSync({
        entries: [{ kind: 'admit', tokens: PROMPT, maxMatch: 0, salt: 'direct' }],
      });
      const seqId = step.entries[0]?.seqId as number;
      ids.forEach((token, i) => {
        const row = step.entries[0]?.logitsRow as Float32Array;
        const lp = r.logprobs[i] as TokenLogprob;
        assert.equal(lp.tokenId, token);
        assert.ok(Math.abs(lp.logprob - logSoftmax(row, token)) < 1e-4, `token ${i}: ${lp.logprob}`);
        const best = lp.top[0] as { tokenId: number; logprob: number };
        assert.ok(Math.abs(best.logprob - logSoftmax(row, best.tokenId)) < 1e-4);
        step = rt.model.stepSync({ entries: [{ kind: 'decode', seqId, token }] });
      });
      rt.model.stepSync({ release: [seqId], entries: [] });
    } finally {
      await rt.dispose();
    }
  });

  it('n = 4 prefills the prompt once and shares its KV chunks; each choice equals its seed alone', async () => {
    const rt = await runtime();
    try {
      const peakBefore = rt.cache.stats().peakPhysicalBytes;
      const r = await drain(
        rt.engine.generate(
          input(
            [0, 1, 2, 3].map((i) => chooser(40 + i)),
            8,
          ),
        ),
      );
      const stats = rt.cache.stats();
      assert.equal(r.final.usage.computedPromptTokens, PROMPT.length);
      assert.equal(r.final.usage.forkedPromptTokens, 3 * PROMPT.length);
      // 6 full prompt chunks held once, plus each choice's own last chunk (4 prompt + 8 new tokens)
      const shared = Math.floor(PROMPT.length / CHUNK) + 4;
      assert.ok(
        peakBefore === 0 && stats.peakPhysicalBytes <= shared * stats.chunkBytes,
        `${stats.peakPhysicalBytes}`,
      );
      for (let i = 0; i < 4; i++) {
        const alone = await drain(rt.engine.generate(input([chooser(40 + i)], 8)));
        assert.deepEqual(r.ids.get(i), alone.ids.get(0), `choice ${i}`);
      }
    } finally {
      await rt.dispose();
    }
  });

  it('penalties, logit bias, min_tokens and the token mask act on the row as defined', () => {
    const p = new Penalties({ presencePenalty: 0.5, frequencyPenalty: 0.25, repetitionPenalty: 2 }, [1]);
    p.accept(3);
    p.accept(3);
    const row = Float32Array.from([1, 4, -2, 2]);
    p.apply(row);
    // token 1 (prompt): 4 / 2; token 3 (twice in the output): 2 / 2 - 0.5 - 2 * 0.25
    assert.deepEqual([...row], [1, 2, -2, 0]);

    const mask = new Int32Array(2);
    mask[0] = 0b1010;
    mask[1] = 1 << 3;
    const logits = Float32Array.from({ length: 40 }, (_, i) => i);
    assert.equal(allowedCount(mask, 40), 3);
    applyTokenMask(logits, mask, new Float32Array(40));
    assert.deepEqual(
      [...logits].flatMap((v, i) => (v > -Infinity ? [i] : [])),
      [1, 3, 35],
    );

    const greedy = { temperature: 0, topK: 0, topP: 1 };
    const biased = new TokenChooser({ sampling: greedy, logitBias: { 0: 10 } }, []);
    assert.equal(biased.choose(Float32Array.from([0, 5, 1])).token, 0);
    const held = new TokenChooser({ sampling: greedy, minTokens: 1, endTokenIds: [EOS] }, []);
    assert.equal(held.choose(Float32Array.from([0, 1, 9])).token, 1, 'EOS held back');
    assert.equal(held.choose(Float32Array.from([0, 1, 9])).token, EOS, 'then allowed');
  });
});
