// Random batches of prompts shaped like real prefix sharing: groups with a
// common system prompt (0..many chunks, sometimes ending mid-chunk), sub-groups
// that share more, and per-sequence suffixes that may be empty.
import type { KvCache } from '../../lib/index.ts';
import type { Rng } from './random.ts';
import { type DenseSeq, referenceAttention } from './reference-attention.ts';
import { type KvGeometry, prefixHashes, syntheticKv } from './synthetic-kv.ts';

export const VOCAB = 1000;

export function randomPrompts(rng: Rng, c: number, batch: number): number[][] {
  const prompts: number[][] = [];
  while (prompts.length < batch) {
    const shared = rng.tokens(
      rng.pick([0, c, 2 * c, 3 * c + rng.int(1, c - 1 || 1), rng.int(0, 8 * c)]),
      VOCAB,
    );
    const subgroups = rng.int(1, 3);
    for (let s = 0; s < subgroups && prompts.length < batch; s++) {
      const more = rng.tokens(rng.pick([0, c, rng.int(0, 3 * c)]), VOCAB);
      const members = rng.int(1, Math.max(1, Math.ceil(batch / 3)));
      for (let m = 0; m < members && prompts.length < batch; m++) {
        const own = rng.tokens(rng.pick([0, 0, rng.int(1, 2 * c)]), VOCAB);
        const p = [...shared, ...more, ...own];
        prompts.push(p.length > 0 ? p : rng.tokens(1, VOCAB));
      }
    }
  }
  return prompts;
}

/** Writes K/V of positions [from, to) of every layer, as syntheticKv defines them. */
export function writeSynthetic(
  cache: KvCache,
  g: KvGeometry,
  seqId: number,
  tokens: number[],
  from: number,
): void {
  const hashes = prefixHashes(tokens);
  for (let layer = 0; layer < g.layers; layer++) {
    const { k, v } = syntheticKv(g, hashes, layer, from, tokens.length);
    cache.writeKV(seqId, layer, from, k, v);
  }
}

/** Adds a prompt the way the engine will: match, append the rest, write its KV, commit. */
export function insertPrompt(
  cache: KvCache,
  g: KvGeometry,
  tokens: number[],
): { seqId: number; cachedTokens: number } {
  const r = cache.addSequence(tokens);
  if (r.cachedTokens < tokens.length) {
    cache.append(r.seqId, tokens.slice(r.cachedTokens));
    writeSynthetic(cache, g, r.seqId, tokens, r.cachedTokens);
  }
  cache.commit(r.seqId);
  return r;
}

export function denseSeq(g: KvGeometry, tokens: number[], layer: number): DenseSeq {
  const { k, v } = syntheticKv(g, prefixHashes(tokens), layer, 0, tokens.length);
  return { k, v, len: tokens.length };
}

/** Reference decode output for the batch, [batch][nHeads][headDim]. */
export function referenceDecode(
  g: KvGeometry,
  seqTokens: number[][],
  layer: number,
  nHeads: number,
  q: Float32Array,
): Float64Array {
  const per = nHeads * g.headDim;
  const out = new Float64Array(seqTokens.length * per);
  seqTokens.forEach((tokens, b) => {
    const seq = denseSeq(g, tokens, layer);
    const r = referenceAttention(
      seq,
      q.subarray(b * per, (b + 1) * per),
      1,
      nHeads,
      g.kvHeads,
      g.headDim,
      () => seq.len,
    );
    out.set(r, b * per);
  });
  return out;
}
