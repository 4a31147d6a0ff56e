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
