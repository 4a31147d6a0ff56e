// The engine on the real stories260K model: continuous batching, prefix
// caching, preemption, limits and cancellation change nothing in what a
// greedy request generates, and are accounted for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceExhausted } from '@chunkmesh/common';
import { REFERENCE_TEXT, STORIES_DIR } from '@chunkmesh/test-support';
import type { GenerateEvent, GenerateInput } from '../../src/engine/engine-types.ts';
import { createWorkerRuntime, type WorkerRuntime } from '../../src/worker-runtime.ts';

const BOS = 1;
const EOS = 2;

async function runtime(
  kvCapacityTokens = 16_384,
  engine: Partial<WorkerRuntime['engine'] extends never ? never : object> = {},
) {
  return createWorkerRuntime({
    modelDir: STORIES_DIR,
    kvCapacityTokens,
    chunkTokens: 16,
    dtype: 'f32',
    threads: 2,
    engine: { prefixSharing: true, stepTokens: 256, maxBatch: 64, maxQueue: 64, ...engine },
  });
}

function input(promptTokens: number[], extra: Partial<GenerateInput> = {}): GenerateInput {
  return {
    requestId: Math.random().toString(36).slice(2),
    promptTokens,
    sampling: { temperature: 0, topK: 0, topP: 1 },
    maxTokens: 40,
    eosTokenIds: [EOS],
    stopTokenIds: [],
    stopStrings: [],
    salt: '',
    ...extra,
  };
}

async function collect(stream: AsyncIterable<GenerateEvent>) {
  const ids: number[] = [];
  let text = '';
  for await (const e of stream) {
    if (e.type === 'tokens') {
      ids.push(...e.ids);
      text += e.text;
    } else {
      return { ids, text, final: e };
    }
  }
  throw new Error('stream ended without a final event');
}

describe('engine on stories260K', () => {
  it('generates the reference story from BOS, streaming its text', async () => {
    const { engine } = await runtime();
    const r = await collect(engine.generate(input([BOS], { maxTokens: 400 })));
    assert.equal(r.text.slice(0, REFERENCE_TEXT.length), REFERENCE_TEXT);
    assert.ok(['stop', 'length'].includes(r.final.finishReason));
    assert.equal(r.final.usage.completionTokens, r.ids.length);
  });

  it('batches concurrent requests continuously; each equals its solo run', async () => {
    const rt = await runtime();
    const { tokenizer } = rt.bundle;
    const prompts = ['Tom and Lily', 'The dog ran', 'Once upon a time, a bird', 'Lily'].map((s) =>
      tokenizer.encode(s, { addSpecialTokens: true }),
    );
    const solo = [];
    for (const p of prompts) solo.push((await collect(rt.engine.generate(input(p)))).ids);
    const fresh = await runtime();
    // staggered arrivals: later requests join a batch already decoding
    const together = await Promise.all(
      prompts.map(async (p, i) => {
        await new Promise((r) => setTimeout(r, i * 15));
        return (await collect(fresh.engine.generate(input(p)))).ids;
      }),
    );
    assert.deepEqual(together, solo);
  });

  it('skips the prefill of a cached prefix, reports it, and generates the same tokens', async () => {
    const rt = await runtime();
    const story = rt.bundle.tokenizer.encode(REFERENCE_TEXT, { addSpecialTokens: true });
    const first = await collect(rt.engine.generate(input(story, { maxTokens: 20 })));
    assert.equal(first.final.usage.cachedPromptTokens, 0);
    const again = await collect(rt.engine.generate(input(story, { maxTokens: 20 })));
    assert.equal(again.final.usage.cachedPromptTokens, Math.floor((story.length - 1) / 16) * 16);
    assert.deepEqual(again.ids, first.ids);
    const otherTenant = await collect(rt.engine.generate(input(story, { maxTokens: 20, salt: 'tenant-b' })));
    assert.equal(otherTenant.final.usage.cachedPromptTokens, 0, 'salts never share');
    assert.deepEqual(otherTenant.ids, first.ids);
  });

  it('without prefix sharing neither matches nor shares chunks, and generates the same tokens', async () => {
    const on = await runtime();
    const off = await runtime(16_384, { prefixSharing: false });
    const story = on.bundle.tokenizer.encode(REFERENCE_TEXT, { addSpecialTokens: true });
    const expected = (await collect(on.engine.generate(input(story, { maxTokens: 10 })))).ids;
    const runs = await Promise.all(
      [0, 1].map(() => collect(off.engine.generate(input(story, { maxTokens: 10 })))),
    );
    for (const r of runs) {
      assert.deepEqual(r.ids, expected);
      assert.equal(r.final.usage.cachedPromptTokens, 0);
    }
    const again = await collect(off.engine.generate(input(story, { maxTokens: 10 })));
    assert.equal(again.final.usage.cachedPromptTokens, 0);
    await off.engine.idle();
    // three requests' full chunks, each kept apart
    const chunksPerRequest = Math.floor((story.length + 9) / 16);
    assert.equal(off.cache.stats().cachedNodes, 3 * chunksPerRequest);
  });

  it('preempts by recompute when the pool runs out, without changing any output', async () => {
    const big = await runtime();
    const prompts = [0, 1, 2, 3, 4, 5].map((i) =>
      big.bundle.tokenizer.encode(`Story ${i}: once`, { addSpecialTokens: true }),
    );
    const expected = await Promise.all(
      prompts.map(async (p) => (await collect(big.engine.generate(input(p, { maxTokens: 120 })))).ids),
    );
    let preempted = 0;
    const small = await createWorkerRuntime({
      modelDir: STORIES_DIR,
      kvCapacityTokens: 16 * 40, // 40 chunks: six requests of ~130 tokens need ~54
      chunkTokens: 16,
      dtype: 'f32',
      threads: 2,
      engine: { prefixSharing: true, stepTokens: 256, maxBatch: 64, maxQueue: 64 },
      observer: () => ({ onPreempt: () => preempted++ }),
    });
    const got = await Promise.all(
      prompts.map(async (p) => (await collect(small.engine.generate(input(p, { maxTokens: 120 })))).ids),
    );
    assert.ok(preempted > 0, 'the small pool forced preemption');
    assert.deepEqual(got, expected);
  });

  it('ends on stop strings without emitting them, and on max tokens', async () => {
    const { engine } = await runtime();
    const r = await collect(engine.generate(input([BOS], { maxTokens: 400, stopStrings: ['Lily'] })));
    assert.equal(r.text, 'Once upon a time, there was a little girl named ');
    assert.equal(r.final.finishReason, 'stop');
    const short = await collect(engine.generate(input([BOS], { maxTokens: 5 })));
    assert.equal(short.ids.length, 5);
    assert.equal(short.final.finishReason, 'length');
  });

  it('refuses work it cannot queue or hold with ResourceExhausted', async () => {
    const { engine } = await runtime(16 * 8, { maxQueue: 1 });
    assert.throws(() => engine.generate(input([BOS], { maxTokens: 500 })), ResourceExhausted);
    const first = engine.generate(input([BOS], { maxTokens: 50 }));
    const second = engine.generate(input([BOS], { maxTokens: 50 }));
    // the first is admitted at once; the second waits for the loop's next turn and fills the queue (1)
    assert.throws(() => engine.generate(input([BOS], { maxTokens: 50 })), /wait queue full/);
    await Promise.all([collect(first), collect(second)]);
  });

  it('cancels on abort and on deadline, releasing the sequence', async () => {
    const rt = await runtime();
    const ac = new AbortController();
    const stream = rt.engine.generate(input([BOS], { maxTokens: 300, signal: ac.signal }));
    let n = 0;
    let final: GenerateEvent | undefined;
    for await (const e of stream) {
      if (e.type === 'tokens' && ++n === 3) ac.abort();
      if (e.type === 'final') final = e;
    }
    assert.equal(final?.type === 'final' && final.finishReason, 'cancelled');
    const late = await collect(
      rt.engine.generate(input([BOS], { maxTokens: 300, deadline: Date.now() - 1 })),
    );
    assert.equal(late.final.finishReason, 'deadline');
    await rt.engine.idle();
    assert.equal(rt.cache.stats().sequences, 0);
  });

  it('finishes in-flight work on shutdown within the grace period', async () => {
    const rt = await runtime();
    const pending = collect(rt.engine.generate(input([BOS], { maxTokens: 30 })));
    await rt.engine.shutdown(5_000);
    assert.equal((await pending).final.finishReason, 'length');
    assert.throws(() => rt.engine.generate(input([BOS])), /shutting down/);
  });
});
