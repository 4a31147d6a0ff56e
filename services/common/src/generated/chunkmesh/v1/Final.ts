// Original file: proto/chunkmesh/v1/generation.proto

import type { FinishReason as _chunkmesh_v1_FinishReason, FinishReason__Output as _chunkmesh_v1_FinishReason__Output } from '../../chunkmesh/v1/FinishReason.ts';
import type { Usage as _chunkmesh_v1_Usage, Usage__Output as _chunkmesh_v1_Usage__Output } from '../../chunkmesh/v1/Usage.ts';
import type { ChoiceEnd as _chunkmesh_v1_ChoiceEnd, ChoiceEnd__Output as _chunkmesh_v1_ChoiceEnd__Output } from '../../chunkmesh/v1/ChoiceEnd.ts';

export interface Final {
  'finishReason'?: (_chunkmesh_v1_FinishReason);
  'usage'?: (_chunkmesh_v1_Usage | null);
  /**
   * The worker that produced the completion.
   */
  'workerId'?: (string);
  /**
   * Human-readable cause when finish_reason is ERROR.
   */
  'error'?: (string);
  /**
   * Per choice, in index order (finish_reason above is choice 0's).
   */
  'choices'?: (_chunkmesh_v1_ChoiceEnd)[];
}

export interface Final__Output {
  'finishReason': (_chunkmesh_v1_FinishReason__Output);
  'usage': (_chunkmesh_v1_Usage__Output | null);
  /**
   * The worker that produced the completion.
   */
  'workerId': (string);
  /**
   * Human-readable cause when finish_reason is ERROR.
   */
  'error': (string);
  /**
   * Per choice, in index order (finish_reason above is choice 0's).
   */
  'choices': (_chunkmesh_v1_ChoiceEnd__Output)[];
}
