// Original file: proto/chunkmesh/v1/generation.proto

import type { TokenLogprob as _chunkmesh_v1_TokenLogprob, TokenLogprob__Output as _chunkmesh_v1_TokenLogprob__Output } from '../../chunkmesh/v1/TokenLogprob.ts';

/**
 * Newly decoded tokens and the text they complete. Text can lag the tokens
 * (a multi-byte character split across tokens is sent when complete).
 */
export interface TokenChunk {
  'tokenIds'?: (number)[];
  'text'?: (string);
  /**
   * The choice these tokens belong to (n > 1).
   */
  'index'?: (number);
  /**
   * When asked for: one per token id, in order.
   */
  'logprobs'?: (_chunkmesh_v1_TokenLogprob)[];
}

/**
 * Newly decoded tokens and the text they complete. Text can lag the tokens
 * (a multi-byte character split across tokens is sent when complete).
 */
export interface TokenChunk__Output {
  'tokenIds': (number)[];
  'text': (string);
  /**
   * The choice these tokens belong to (n > 1).
   */
  'index': (number);
  /**
   * When asked for: one per token id, in order.
   */
  'logprobs': (_chunkmesh_v1_TokenLogprob__Output)[];
}
