// Original file: proto/chunkmesh/v1/worker_tiers.proto

import type { Long } from '@grpc/proto-loader';

export interface TierMoveResponse {
  'promptTokens'?: (number);
  /**
   * Tokens of the prompt's full chunks the tree holds, on any tier.
   */
  'matchedTokens'?: (number);
  /**
   * Moved by this call.
   */
  'movedTokens'?: (number);
  /**
   * Left where they were: pinned by a running request, under a longer
   * cached prefix that stays on the device, or no room (spill); not read
   * back or no device room (restore).
   */
  'stayedTokens'?: (number);
  /**
   * The prompt's chunk keys now in the tier asked for: what the worker's
   * reported tree (Redis) says there once the move is reported.
   */
  'chunkKeys'?: (number | string | Long)[];
  'workerId'?: (string);
  'epoch'?: (number | string | Long);
}

export interface TierMoveResponse__Output {
  'promptTokens': (number);
  /**
   * Tokens of the prompt's full chunks the tree holds, on any tier.
   */
  'matchedTokens': (number);
  /**
   * Moved by this call.
   */
  'movedTokens': (number);
  /**
   * Left where they were: pinned by a running request, under a longer
   * cached prefix that stays on the device, or no room (spill); not read
   * back or no device room (restore).
   */
  'stayedTokens': (number);
  /**
   * The prompt's chunk keys now in the tier asked for: what the worker's
   * reported tree (Redis) says there once the move is reported.
   */
  'chunkKeys': (string)[];
  'workerId': (string);
  'epoch': (string);
}
