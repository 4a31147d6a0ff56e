// The stories260K model from the shared data directory (../shared beside the
// repository, or CHUNKMESH_SHARED_DIR), its reference output, and a greedy
// generator over the native Model for the tests that run it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DecodeMode, KvCache, type LoadedModel, type Model } from '@chunkmesh/native';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const sharedDir = process.env.CHUNKMESH_SHARED_DIR ?? join(repoRoot, '..', 'shared');
export const STORIES_DIR = join(sharedDir, 'models', 'stories260K');
export const CHECKPOINT = join(STORIES_DIR, 'stories260K.bin');
export const TOKENIZER = join(STORIES_DIR, 'tok512.bin');

if (!existsSync(CHECKPOINT) || !existsSync(TOKENIZER)) {
  throw new Error(
    `stories260K not found in ${STORIES_DIR}; set CHUNKMESH_SHARED_DIR to the shared data directory`,
  );
}

/** What llama2.c prints for stories260K, greedy from BOS alone (models/stories260K/README.md). */
export const REFERENCE_TEXT =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ' +
  'One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n' +
  "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. " +
  'She said, "I want to play with your ball, but I can\'t find it."';

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
