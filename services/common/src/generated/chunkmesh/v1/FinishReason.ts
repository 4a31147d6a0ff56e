// Original file: proto/chunkmesh/v1/generation.proto

export const FinishReason = {
  FINISH_REASON_UNSPECIFIED: 'FINISH_REASON_UNSPECIFIED',
  /**
   * An end-of-sequence token, stop string or stop token id.
   */
  FINISH_REASON_STOP: 'FINISH_REASON_STOP',
  /**
   * max_tokens or the model's context length.
   */
  FINISH_REASON_LENGTH: 'FINISH_REASON_LENGTH',
  /**
   * The caller cancelled or its deadline passed.
   */
  FINISH_REASON_CANCELLED: 'FINISH_REASON_CANCELLED',
  /**
   * The worker failed after streaming had begun.
   */
  FINISH_REASON_ERROR: 'FINISH_REASON_ERROR',
  /**
   * The output is a tool call (ChoiceEnd.tool_calls).
   */
  FINISH_REASON_TOOL_CALLS: 'FINISH_REASON_TOOL_CALLS',
} as const;

export type FinishReason =
  | 'FINISH_REASON_UNSPECIFIED'
  | 0
  /**
   * An end-of-sequence token, stop string or stop token id.
   */
  | 'FINISH_REASON_STOP'
  | 1
  /**
   * max_tokens or the model's context length.
   */
  | 'FINISH_REASON_LENGTH'
  | 2
  /**
   * The caller cancelled or its deadline passed.
   */
  | 'FINISH_REASON_CANCELLED'
  | 3
  /**
   * The worker failed after streaming had begun.
   */
  | 'FINISH_REASON_ERROR'
  | 4
  /**
   * The output is a tool call (ChoiceEnd.tool_calls).
   */
  | 'FINISH_REASON_TOOL_CALLS'
  | 5

export type FinishReason__Output = typeof FinishReason[keyof typeof FinishReason]
