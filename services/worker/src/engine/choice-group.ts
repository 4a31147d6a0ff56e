// The choices of one request (n > 1, best_of) as one stream: each sequence's
// tokens tagged with its choice index, and a single final event once every
// choice has ended, with the usage of them all (the prompt counted once; the
// prompt tokens computed, and those the later choices took by fork). With
// best_of, tokens are held until all candidates end, and only the best n
// (highest mean log-probability per token) are sent, renumbered.
import type { ChoiceEnd, GenerateEvent, SequenceEvent, Usage } from './engine-types.ts';
import type { RequestState } from './request-state.ts';

type TokensEvent = Extract<GenerateEvent, { type: 'tokens' }>;

export class ChoiceGroup {
  private readonly ends: (ChoiceEnd & { usage: Usage; error?: Error })[] = [];
  private readonly held: TokensEvent[][];
  states: RequestState[] = [];

  constructor(
    private readonly size: number,
    /** best_of: the number of choices returned; undefined returns all as they stream. */
    private readonly returnBest: number | undefined,
    private readonly emit: (e: GenerateEvent) => void,
  ) {
    this.held = Array.from({ length: size }, () => []);
  }

  /** What choice `index`'s sequence pushes its events to. */
  sink(index: number): (e: SequenceEvent) => void {
    return (e) => {
      if (e.type === 'tokens') {
        const tagged: TokensEvent = { ...e, index };
        if (this.returnBest === undefined) this.emit(tagged);
        else this.held[index]?.push(tagged);
        return;
      }
      const state = this.states[index] as RequestState;
      state.chooser.dispose();
      this.ends.push({
        index,
        finishReason: e.finishReason,
        cumulativeLogprob: state.chooser.cumulativeLogprob,
        usage: e.usage,
        ...(e.error ? { error: e.error } : {}),
      });
      if (this.ends.length === this.size) this.finish();
    };
  }

  private finish(): void {
    const byIndex = [...this.ends].sort((a, b) => a.index - b.index);
    const first = this.states[0] as RequestState;
    const promptTokens = first.input.promptTokens.length;
    const usage: Usage = {
      promptTokens,
      completionTokens: byIndex.reduce((n, e) => n + e.usage.completionTokens, 0),
      cachedPromptTokens: Math.max(0, first.cachedPromptTokens),
      computedPromptTokens: this.states
        .filter((s) => !s.forked)
        .reduce((n, s) => n + promptTokens - Math.max(0, s.cachedPromptTokens), 0),
      forkedPromptTokens: this.states.filter((s) => s.forked).length * promptTokens,
    };
    let chosen = byIndex;
    if (this.returnBest !== undefined) {
      const mean = (e: (typeof byIndex)[number]) =>
        e.cumulativeLogprob / Math.max(1, e.usage.completionTokens);
      chosen = [...byIndex]
        .sort((a, b) => mean(b) - mean(a) || a.index - b.index)
        .slice(0, this.returnBest)
        .sort((a, b) => a.index - b.index);
      chosen.forEach((e, i) => {
        for (const t of this.held[e.index] ?? []) this.emit({ ...t, index: i });
      });
    }
    const choices: ChoiceEnd[] = chosen.map((e, i) => ({
      index: i,
      finishReason: e.finishReason,
      cumulativeLogprob: e.cumulativeLogprob,
    }));
    const error = byIndex.find((e) => e.error)?.error;
    this.emit({
      type: 'final',
      finishReason: (choices[0] as ChoiceEnd).finishReason,
      usage,
      choices,
      ...(error ? { error } : {}),
    });
  }
}
