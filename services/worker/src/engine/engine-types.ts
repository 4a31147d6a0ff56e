// The engine's contract with its callers (the gRPC service, tests, benchmarks)
// and with the model it drives.
import type { KvEvent, StepRequest, StepResult, TierCounts } from '@chunkmesh/native';
import type { TokenChooser } from '../sampling/token-chooser.ts';
import type { LookAheadObserver } from './look-ahead.ts';
import type { RestoreMode, RestoreRates } from './restore-policy.ts';
import type { SamplingParams } from './sampling.ts';

/** The model as the engine sees it: one whole engine step at a time (see native Model.step). */
export interface StepModel {
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  step(request: StepRequest): Promise<StepResult>;
}

export interface GenerateInput {
  requestId: string;
  promptTokens: number[];
  sampling: SamplingParams;
  maxTokens: number;
  /** End-of-sequence ids (empty when the caller ignores EOS): generation ends, the token is not emitted. */
  eosTokenIds: number[];
  /** Caller's stop token ids: generation ends after the token, which is emitted. */
  stopTokenIds: number[];
  /** Strings that end generation; the text up to the first one is emitted. */
  stopStrings: string[];
  /** Tenant salt: prompts of different tenants never share cache. */
  salt: string;
  /** Absolute time (ms since epoch) after which the request is abandoned. */
  deadline?: number;
  signal?: AbortSignal;
  /**
   * One per sequence to decode (the n choices, or best_of candidates): the prompt is prefilled
   * once and forked in the prefix tree for the others. Default: one chooser from `sampling`.
   */
  choosers?: TokenChooser[];
  /** best_of: return only this many choices, those with the highest mean log-probability per token. */
  returnBest?: number;
}

/** A chosen token's log-probability (raw logits) and the most likely alternatives. */
export interface TokenLogprob {
  tokenId: number;
  logprob: number;
  top: { tokenId: number; logprob: number }[];
}

export interface ChoiceEnd {
  index: number;
  finishReason: FinishReason;
  /** Sum of the chosen tokens' log-probabilities (0 unless logprobs or best_of asked for them). */
  cumulativeLogprob: number;
}

export type FinishReason = 'stop' | 'length' | 'cancelled' | 'deadline' | 'error';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens whose prefill was skipped because the prefix tree held them. */
  cachedPromptTokens: number;
  /** Prompt tokens the forward pass ran: once for all choices. */
  computedPromptTokens?: number;
  /** Prompt tokens the choices after the first took from the fork of the first. */
  forkedPromptTokens?: number;
}

/** What one sequence of a request emits (RequestState.push). */
export type SequenceEvent =
  | { type: 'tokens'; ids: number[]; text: string; logprobs?: TokenLogprob[] }
  | { type: 'final'; finishReason: FinishReason; usage: Usage; error?: Error };

/** What a request streams: each choice's tokens, then one final for them all. */
export type GenerateEvent =
  | { type: 'tokens'; index: number; ids: number[]; text: string; logprobs?: TokenLogprob[] }
  | { type: 'final'; finishReason: FinishReason; usage: Usage; error?: Error; choices: ChoiceEnd[] };

/** Hooks for metrics and cluster reporting; all optional. */
export interface EngineObserver extends LookAheadObserver {
  /** byTier: where the cached tokens were found (absent when nothing was admitted from the tree). */
  onAdmit?(promptTokens: number, cachedTokens: number, byTier?: TierCounts): void;
  /** A choice of an n > 1 request took the prefilled prompt by a fork instead of computing it. */
  onFork?(promptTokens: number): void;
  onFirstToken?(ttftMs: number): void;
  onToken?(interTokenMs: number): void;
  onFinish?(e2eMs: number, reason: FinishReason): void;
  onStep?(batch: number, stepMs: number, queueDepth: number, runningTokens: number): void;
  onPreempt?(): void;
  /** A graft made this many tokens of a truncated conversation's saved KV usable (truncation reuse). */
  onTruncationReuse?(tokens: number): void;
  /** Tree events drained after each step, for the cluster reporter. */
  onKvEvents?(events: KvEvent[]): void;
}

export interface EngineOptions {
  /** false: no prefix matching and per-sequence attention (the comparison baseline). */
  prefixSharing: boolean;
  /** Tokens computed per step (decode tokens first, prefill chunks fill the rest). */
  stepTokens: number;
  /** Sequences decoding together at most. */
  maxBatch: number;
  /** Requests waiting for admission at most; more are refused with ResourceExhausted. */
  maxQueue: number;
  /**
   * Tokens of recent conversations remembered for truncation reuse (0: off): a prompt that drops a
   * remembered conversation's oldest turns reuses the saved KV of the rest (needs prefixSharing).
   */
  truncationReuseTokens?: number;
  /** Set when the cache has tiers below the device: the look-ahead over waiting requests. */
  tiers?: {
    /** Waiting requests whose prefixes are held (and restored from disk) ahead of admission. */
    lookAhead: number;
    rates: RestoreRates;
    /** Whether a prefix on disk is read back or recomputed (auto: whichever the rates say is faster). */
    restore: RestoreMode;
  };
}
