// A request's token choosers, one per sequence it decodes (n choices, or
// best_of candidates), from its checked sampling parameters: choice i samples
// with seed + i, so each choice equals the same request run alone with that
// seed; a constraint gets one grammar matcher per choice.
import type { Sampling } from '@chunkmesh/common';
import type { ConstraintCompiler } from './grammar/constraint-compiler.ts';
import { TokenChooser } from './token-chooser.ts';

/** The sampler's 32-bit state from a 64-bit seed: both halves count (seeds below 2^32 keep their value). */
export function seedState(seed: bigint): number {
  const s = BigInt.asUintN(64, seed);
  return Number((s ^ (s >> 32n)) & 0xffffffffn);
}

export interface ChooserContext {
  promptTokens: readonly number[];
  /** End-of-sequence ids in force (empty with ignore_eos) plus the caller's stop token ids. */
  endTokenIds: readonly number[];
  /** Compiles the constraint, when the request has one. */
  constraints: () => Promise<ConstraintCompiler>;
}

export async function buildChoosers(s: Sampling, ctx: ChooserContext): Promise<TokenChooser[]> {
  const count = s.bestOf;
  const matchers = s.constraint ? await (await ctx.constraints()).matchers(s.constraint, count) : [];
  return Array.from({ length: count }, (_, i) => {
    const seed = s.seed === undefined ? undefined : seedState(BigInt(s.seed) + BigInt(i));
    return new TokenChooser(
      {
        sampling: {
          temperature: s.temperature,
          topK: s.topK,
          topP: s.topP,
          ...(seed !== undefined ? { seed } : {}),
        },
        penalties: {
          presencePenalty: s.presencePenalty,
          frequencyPenalty: s.frequencyPenalty,
          repetitionPenalty: s.repetitionPenalty,
        },
        logitBias: s.logitBias,
        minTokens: s.minTokens,
        endTokenIds: ctx.endTokenIds,
        ...(s.logprobs ? { logprobs: { top: s.topLogprobs } } : {}),
        trackLogprob: s.bestOf > s.n,
      },
      ctx.promptTokens,
      matchers[i],
    );
  });
}
