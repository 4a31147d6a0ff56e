// Original file: proto/chunkmesh/v1/generation.proto

import type { TopLogprob as _chunkmesh_v1_TopLogprob, TopLogprob__Output as _chunkmesh_v1_TopLogprob__Output } from '../../chunkmesh/v1/TopLogprob.ts';

export interface TokenLogprob {
  'tokenId'?: (number);
  'logprob'?: (number | string);
  /**
   * The most likely tokens at this position, most likely first.
   */
  'top'?: (_chunkmesh_v1_TopLogprob)[];
}

export interface TokenLogprob__Output {
  'tokenId': (number);
  'logprob': (number);
  /**
   * The most likely tokens at this position, most likely first.
   */
  'top': (_chunkmesh_v1_TopLogprob__Output)[];
}
