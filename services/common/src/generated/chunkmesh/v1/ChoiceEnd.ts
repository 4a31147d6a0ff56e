// Original file: proto/chunkmesh/v1/generation.proto

import type { FinishReason as _chunkmesh_v1_FinishReason, FinishReason__Output as _chunkmesh_v1_FinishReason__Output } from '../../chunkmesh/v1/FinishReason.ts';
import type { ToolCall as _chunkmesh_v1_ToolCall, ToolCall__Output as _chunkmesh_v1_ToolCall__Output } from '../../chunkmesh/v1/ToolCall.ts';

export interface ChoiceEnd {
  'index'?: (number);
  'finishReason'?: (_chunkmesh_v1_FinishReason);
  /**
   * Parsed from the choice's text when the request gave tools (the text
   * streamed in the deltas is the model's raw output).
   */
  'toolCalls'?: (_chunkmesh_v1_ToolCall)[];
  /**
   * Sum of the sampled tokens' log-probabilities (with logprobs or best_of).
   */
  'cumulativeLogprob'?: (number | string);
}

export interface ChoiceEnd__Output {
  'index': (number);
  'finishReason': (_chunkmesh_v1_FinishReason__Output);
  /**
   * Parsed from the choice's text when the request gave tools (the text
   * streamed in the deltas is the model's raw output).
   */
  'toolCalls': (_chunkmesh_v1_ToolCall__Output)[];
  /**
   * Sum of the sampled tokens' log-probabilities (with logprobs or best_of).
   */
  'cumulativeLogprob': (number);
}
