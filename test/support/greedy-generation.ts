// Greedy generation over the native Model, as the engine batches it, for the
// tests that check a model's output token for token (stories260K).
import { type DecodeMode, KvCache, type LoadedModel, type Model } from '@chunkmesh/native';

export function storiesCache(loaded: LoadedModel, chunkTokens = 16): KvCache {
  const c = loaded.config;
  return new KvCache({
    layers: c.layers,
    kvHeads: c.kvHeads,
    headDim: c.headDim,
    chunkTokens,
    capacityChunks: 1024,
    modelId: c.modelId,
    vocabSize: c.vocabSize,
    threads: 2,
  });
}

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  return best;
}

export interface Generated {
  /** Greedy tokens after each prompt. */
  outputs: number[][];
  /** Prompt tokens each sequence found in the cache. */
  cached: number[];
  /** New tokens each sequence had in the prefill step. */
  prefilled: number[];
}

/**
 * Runs the prompts together at temperature 0, as the engine would: one step
 * admitting every prompt (prefilling it past its cached prefix), then one step
 * per token decoding them all. Sequences are released at the end (their
 * chunks stay cached).
 */
export async function generateGreedy(
  model: Model,
  prompts: number[][],
  steps: number,
  mode: DecodeMode,
): Promise<Generated> {
  const first = await model.step({
    entries: prompts.map((p) => ({ kind: 'admit', tokens: p, maxMatch: p.length - 1 })),
    mode,
  });
  const ids = first.entries.map((e) => e.seqId);
  let rows = first.entries.map((e) => e.logitsRow as Float32Array);
  const outputs: number[][] = prompts.map(() => []);
  for (let s = 0; s < steps; s++) {
    const next = rows.map(argmax);
    for (const [i, t] of next.entries()) outputs[i]?.push(t);
    if (s === steps - 1) break;
    const r = await model.step({
      entries: ids.map((seqId, i) => ({ kind: 'decode', seqId, token: next[i] as number })),
      mode,
    });
    rows = r.entries.map((e) => e.logitsRow as Float32Array);
  }
  await model.step({ release: ids, entries: [] });
  return {
    outputs,
    cached: first.entries.map((e) => e.cachedTokens),
    prefilled: first.entries.map((e) => e.computed),
  };
}
