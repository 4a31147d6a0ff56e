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
 * prefilling every prompt past its cached prefix, then one step per token
 * decoding them all. Sequences are released at the end (their chunks stay cached).
 */
export async function generateGreedy(
  model: Model,
  prompts: number[][],
  steps: number,
  mode: DecodeMode,
): Promise<Generated> {
  const { cache } = model;
  const seqs = prompts.map((p) => cache.addSequence(p, { maxMatchTokens: p.length - 1 }));
  const fresh = prompts.map((p, i) => p.slice(seqs[i]?.cachedTokens));
  const ids = seqs.map((s) => s.seqId);
  for (const [i, toks] of fresh.entries()) cache.append(ids[i] as number, toks);
  let logits = await model.step(
    ids,
    fresh.flat(),
    fresh.map((t) => t.length),
    mode,
  );
  const outputs: number[][] = prompts.map(() => []);
  const vocab = model.vocabSize;
  for (let s = 0; s < steps; s++) {
    const next = ids.map((_, i) => argmax(logits.subarray(i * vocab, (i + 1) * vocab)));
    for (const [i, t] of next.entries()) outputs[i]?.push(t);
    if (s === steps - 1) break;
    for (const [i, t] of next.entries()) cache.append(ids[i] as number, [t]);
    logits = await model.step(
      ids,
      next,
      next.map(() => 1),
      mode,
    );
  }
  for (const id of ids) cache.release(id);
  return { outputs, cached: seqs.map((s) => s.cachedTokens), prefilled: fresh.map((t) => t.length) };
}
