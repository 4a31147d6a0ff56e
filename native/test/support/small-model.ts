// A small llama-shaped model and a KV cache of its shape, for native tests
// that run the model over real caches (random weights: randomModel).
import assert from 'node:assert/strict';
import { KvCache, type KvCacheOptions, type Model, type ModelConfig } from '../../lib/index.ts';

export function smallLlama(modelId: string): ModelConfig {
  return {
    modelId,
    family: 'llama',
    dim: 64,
    hiddenDim: 96,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 16,
    vocabSize: 64,
    maxSeqLen: 256,
    normEps: 1e-5,
    ropeTheta: 10000,
    ropeLayout: 'halves',
    tiedEmbeddings: false,
    qkvBias: false,
    eosTokenIds: [],
  };
}

/** A one-thread CPU cache of the model's shape (tiers and the rest as given). */
export function smallCache(
  config: ModelConfig,
  chunkTokens: number,
  capacityChunks: number,
  options: Partial<KvCacheOptions> = {},
): KvCache {
  return new KvCache({
    layers: config.layers,
    kvHeads: config.kvHeads,
    headDim: config.headDim,
    chunkTokens,
    capacityChunks,
    modelId: config.modelId,
    vocabSize: config.vocabSize,
    threads: 1,
    ...options,
  });
}

/** Runs tokens as one admitted sequence to its last logits, then releases it; returns those logits. */
export async function runPrompt(
  model: Model,
  tokens: number[],
  options: { ticket?: number | undefined; salt?: string } = {},
): Promise<{ logits: Float32Array; cached: number }> {
  const r = await model.step({
    entries: [{ kind: 'admit', tokens, maxMatch: tokens.length - 1, ...options }],
  });
  const o = r.entries[0];
  assert.ok(o?.admitted && o.logitsRow, 'the whole prompt ran in one step');
  await model.step({ release: [o.seqId], entries: [] });
  return { logits: o.logitsRow, cached: o.cachedTokens };
}
