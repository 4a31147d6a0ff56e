// Chooses one sequence's next token from the model's logits, in vLLM's order:
// the raw row's log-probabilities are what logprobs report; then logit bias,
// the penalties, the constraint's token mask and min_tokens shape a copy of
// the row, and the sampler (temperature, top-k, top-p, seeded) draws from it.
// The constraint's mask for the next token is computed by prepare(), which
// the engine calls while the forward pass that produces the logits runs.
import type { GrammarMatcher } from '@mlc-ai/web-xgrammar';
import type { TokenLogprob } from '../engine/engine-types.ts';
import { Sampler, type SamplingParams } from '../engine/sampling.ts';
import { tokenLogprob } from './logprobs.ts';
import { Penalties, type PenaltyParams } from './penalties.ts';
import { applyTokenMask } from './token-mask.ts';

export interface ChooserParams {
  sampling: SamplingParams;
  penalties?: PenaltyParams;
  /** Token id -> added to its logit. */
  logitBias?: Readonly<Record<number, number>>;
  /** endTokenIds are blocked until this many tokens were chosen. */
  minTokens?: number;
  /** End-of-sequence and stop token ids (what min_tokens holds back). */
  endTokenIds?: readonly number[];
  /** Report each chosen token's log-probability with this many alternatives. */
  logprobs?: { top: number };
  /** Sum the chosen tokens' log-probabilities (best_of ranks choices by it). */
  trackLogprob?: boolean;
}

export interface Chosen {
  token: number;
  logprob?: TokenLogprob;
}

export class TokenChooser {
  private readonly sampler: Sampler;
  private readonly penalties: Penalties | undefined;
  private readonly bias: [number, number][];
  private row = new Float32Array(0);
  private scratch = new Float32Array(0);
  /** The constraint's mask for the next token, once prepared. */
  private mask: Int32Array | undefined;
  private chosen = 0;
  /** Sum of the chosen tokens' log-probabilities (with logprobs or trackLogprob). */
  cumulativeLogprob = 0;

  constructor(
    private readonly params: ChooserParams,
    promptTokens: readonly number[],
    private readonly matcher?: GrammarMatcher,
  ) {
    this.sampler = new Sampler(params.sampling);
    const p = params.penalties ? new Penalties(params.penalties, promptTokens) : undefined;
    this.penalties = p?.active ? p : undefined;
    this.bias = Object.entries(params.logitBias ?? {}).map(([id, b]) => [Number(id), b]);
  }

  /** Computes the constraint's mask for the next token (a no-op without one, or when already done). */
  async prepare(): Promise<void> {
    if (this.matcher && !this.mask) this.mask = await this.matcher.getNextTokenBitmask();
  }

  /** Picks the next token from `logits` (left unchanged: forked choices share one row). */
  choose(logits: Float32Array): Chosen {
    const token = this.changesRow()
      ? this.sampler.sample(this.shapedRow(logits))
      : this.sampler.sample(logits);
    const p = this.params;
    let logprob: TokenLogprob | undefined;
    if (p.logprobs || p.trackLogprob) {
      logprob = tokenLogprob(logits, token, p.logprobs?.top ?? 0);
      this.cumulativeLogprob += logprob.logprob;
    }
    this.accept(token);
    return p.logprobs && logprob ? { token, logprob } : { token };
  }

  /** Whether bias, penalties, a constraint or min_tokens change the row (else it is sampled as it is). */
  private changesRow(): boolean {
    const p = this.params;
    const holdsBackEnd = this.chosen < (p.minTokens ?? 0) && (p.endTokenIds?.length ?? 0) > 0;
    return this.bias.length > 0 || this.penalties !== undefined || this.matcher !== undefined || holdsBackEnd;
  }

  /** `logits` copied into the chooser's own row, then biased, penalised, masked and held back. */
  private shapedRow(logits: Float32Array): Float32Array {
    if (this.row.length !== logits.length) {
      this.row = new Float32Array(logits.length);
      this.scratch = new Float32Array(logits.length);
    }
    const row = this.row;
    row.set(logits);
    for (const [id, b] of this.bias) row[id] = (row[id] as number) + b;
    this.penalties?.apply(row);
    if (this.matcher) {
      if (!this.mask) throw new Error('token mask not prepared before choosing');
      applyTokenMask(row, this.mask, this.scratch);
    }
    this.holdBackEnd(row);
    return row;
  }

  /** Whether the constraint is complete (it took an end-of-sequence token): nothing may follow. */
  get finished(): boolean {
    return this.matcher?.isTerminated() ?? false;
  }

  /** Frees the constraint's matcher (wasm memory). */
  dispose(): void {
    this.matcher?.dispose();
  }

  private accept(token: number): void {
    this.chosen++;
    this.penalties?.accept(token);
    if (this.matcher) {
      this.mask = undefined;
      if (!this.matcher.acceptToken(token))
        throw new Error(`the constraint refused token ${token} it allowed`);
    }
  }

  /** min_tokens: end tokens stay out while too few were chosen, unless nothing else is allowed. */
  private holdBackEnd(row: Float32Array): void {
    const ends = this.params.endTokenIds ?? [];
    if (this.chosen >= (this.params.minTokens ?? 0) || ends.length === 0) return;
    const saved = ends.map((id) => row[id] as number);
    for (const id of ends) row[id] = -Infinity;
    // a finished constraint allows only end tokens: it wins over min_tokens
    if (row.some((v) => v > -Infinity)) return;
    ends.forEach((id, i) => {
      row[id] = saved[i] as number;
    });
  }
}
