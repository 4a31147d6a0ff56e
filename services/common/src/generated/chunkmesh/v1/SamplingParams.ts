// Original file: proto/chunkmesh/v1/generation.proto

import type { Constraint as _chunkmesh_v1_Constraint, Constraint__Output as _chunkmesh_v1_Constraint__Output } from '../../chunkmesh/v1/Constraint.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Zero values mean "the server's default" wherever 0 is not a useful value.
 */
export interface SamplingParams {
  /**
   * 0 is greedy decoding.
   */
  'temperature'?: (number | string);
  /**
   * 0 disables top-k.
   */
  'topK'?: (number);
  /**
   * Nucleus sampling, in (0, 1]; unset is 1 (disabled). 0, NaN and values
   * past 1 are INVALID_ARGUMENT, as on the HTTP API.
   */
  'topP'?: (number | string);
  'seed'?: (number | string | Long);
  /**
   * Completion length limit; 0 is the server's default limit.
   */
  'maxTokens'?: (number);
  /**
   * Generation stops before any of these strings; it is not emitted.
   */
  'stop'?: (string)[];
  /**
   * Generation stops after any of these tokens; it is emitted.
   */
  'stopTokenIds'?: (number)[];
  /**
   * Keep going past the model's end-of-sequence tokens (benchmarks).
   */
  'ignoreEos'?: (boolean);
  /**
   * OpenAI's penalties over the tokens generated so far, in [-2, 2]: presence
   * subtracts once per distinct token, frequency once per occurrence.
   */
  'presencePenalty'?: (number | string);
  'frequencyPenalty'?: (number | string);
  /**
   * vLLM's (CTRL's) penalty over prompt and output tokens, > 0; 0 (or 1) is none.
   */
  'repetitionPenalty'?: (number | string);
  /**
   * Added to the logits of these token ids, each in [-100, 100].
   */
  'logitBias'?: ({[key: number]: number | string});
  /**
   * End-of-sequence and stop tokens are blocked until this many tokens exist.
   */
  'minTokens'?: (number);
  /**
   * Return each sampled token's log-probability (the model's, before
   * temperature, penalties and masks), and this many top alternatives (<= 20).
   */
  'logprobs'?: (boolean);
  'topLogprobs'?: (number);
  /**
   * Completions for the one prompt (prefilled once, forked in the prefix
   * tree); 0 is 1. Choice i samples with seed + i when a seed is given.
   */
  'n'?: (number);
  /**
   * Candidates generated, of which the n with the highest mean log-probability
   * per token are returned (nothing streams until all are done); 0 is n.
   */
  'bestOf'?: (number);
  /**
   * Constrained decoding: only text the constraint accepts can be sampled.
   */
  'constraint'?: (_chunkmesh_v1_Constraint | null);
  /**
   * A oneof (like seed) so that a 0 that was sent is told from one that was
   * not; the wire format is that of the plain field this was before.
   */
  'topPOption'?: "topP";
  /**
   * Fixes the sampler's random stream; unset draws a fresh seed per request.
   * A oneof rather than proto3 `optional` (the same wire format and presence),
   * so that protoc releases before 3.15 (Debian's grpc_tools 1.14) compile it.
   */
  'seedOption'?: "seed";
}

/**
 * Zero values mean "the server's default" wherever 0 is not a useful value.
 */
export interface SamplingParams__Output {
  /**
   * 0 is greedy decoding.
   */
  'temperature': (number);
  /**
   * 0 disables top-k.
   */
  'topK': (number);
  /**
   * Nucleus sampling, in (0, 1]; unset is 1 (disabled). 0, NaN and values
   * past 1 are INVALID_ARGUMENT, as on the HTTP API.
   */
  'topP'?: (number);
  'seed'?: (string);
  /**
   * Completion length limit; 0 is the server's default limit.
   */
  'maxTokens': (number);
  /**
   * Generation stops before any of these strings; it is not emitted.
   */
  'stop': (string)[];
  /**
   * Generation stops after any of these tokens; it is emitted.
   */
  'stopTokenIds': (number)[];
  /**
   * Keep going past the model's end-of-sequence tokens (benchmarks).
   */
  'ignoreEos': (boolean);
  /**
   * OpenAI's penalties over the tokens generated so far, in [-2, 2]: presence
   * subtracts once per distinct token, frequency once per occurrence.
   */
  'presencePenalty': (number);
  'frequencyPenalty': (number);
  /**
   * vLLM's (CTRL's) penalty over prompt and output tokens, > 0; 0 (or 1) is none.
   */
  'repetitionPenalty': (number);
  /**
   * Added to the logits of these token ids, each in [-100, 100].
   */
  'logitBias': ({[key: number]: number});
  /**
   * End-of-sequence and stop tokens are blocked until this many tokens exist.
   */
  'minTokens': (number);
  /**
   * Return each sampled token's log-probability (the model's, before
   * temperature, penalties and masks), and this many top alternatives (<= 20).
   */
  'logprobs': (boolean);
  'topLogprobs': (number);
  /**
   * Completions for the one prompt (prefilled once, forked in the prefix
   * tree); 0 is 1. Choice i samples with seed + i when a seed is given.
   */
  'n': (number);
  /**
   * Candidates generated, of which the n with the highest mean log-probability
   * per token are returned (nothing streams until all are done); 0 is n.
   */
  'bestOf': (number);
  /**
   * Constrained decoding: only text the constraint accepts can be sampled.
   */
  'constraint': (_chunkmesh_v1_Constraint__Output | null);
  /**
   * A oneof (like seed) so that a 0 that was sent is told from one that was
   * not; the wire format is that of the plain field this was before.
   */
  'topPOption'?: "topP";
  /**
   * Fixes the sampler's random stream; unset draws a fresh seed per request.
   * A oneof rather than proto3 `optional` (the same wire format and presence),
   * so that protoc releases before 3.15 (Debian's grpc_tools 1.14) compile it.
   */
  'seedOption'?: "seed";
}
