// Repetition penalties over one sequence, as OpenAI and vLLM define them:
// presence (subtracted once from every token already generated), frequency
// (subtracted per occurrence) and repetition (CTRL's: positive logits of
// tokens seen in the prompt or the output divided by it, negative ones
// multiplied). Counts are kept incrementally, so a step costs one pass over
// the distinct tokens seen, not over the vocabulary.

export interface PenaltyParams {
  presencePenalty: number;
  frequencyPenalty: number;
  /** 1: none. */
  repetitionPenalty: number;
}

export class Penalties {
  /** Occurrences of each token in the output. */
  private readonly counts = new Map<number, number>();
  /** Tokens of the prompt (the repetition penalty covers them too). */
  private readonly prompt: Set<number>;

  constructor(
    private readonly params: PenaltyParams,
    promptTokens: readonly number[],
  ) {
    this.prompt = params.repetitionPenalty === 1 ? new Set() : new Set(promptTokens);
  }

  get active(): boolean {
    const p = this.params;
    return p.presencePenalty !== 0 || p.frequencyPenalty !== 0 || p.repetitionPenalty !== 1;
  }

  accept(token: number): void {
    this.counts.set(token, (this.counts.get(token) ?? 0) + 1);
  }

  apply(logits: Float32Array): void {
    const { presencePenalty, frequencyPenalty, repetitionPenalty } = this.params;
    if (repetitionPenalty !== 1) {
      const scale = (t: number) => {
        const v = logits[t] as number;
        logits[t] = v > 0 ? v / repetitionPenalty : v * repetitionPenalty;
      };
      // each distinct token once: the prompt's, then generated ones the prompt does not have
      for (const t of this.prompt) scale(t);
      for (const t of this.counts.keys()) if (!this.prompt.has(t)) scale(t);
    }
    if (presencePenalty === 0 && frequencyPenalty === 0) return;
    for (const [t, n] of this.counts)
      logits[t] = (logits[t] as number) - presencePenalty - frequencyPenalty * n;
  }
}
