// Original file: proto/chunkmesh/v1/worker_control.proto

import type { Long } from '@grpc/proto-loader';

export interface PrefillResponse {
  'promptTokens'?: (number);
  /**
   * Prompt tokens the tree already held before this call.
   */
  'cachedTokens'?: (number);
  /**
   * Keys of the prompt's full chunks, in order: what the worker's reported
   * tree (Redis) holds once the prefill is reported.
   */
  'chunkKeys'?: (number | string | Long)[];
  'workerId'?: (string);
  'epoch'?: (number | string | Long);
}

export interface PrefillResponse__Output {
  'promptTokens': (number);
  /**
   * Prompt tokens the tree already held before this call.
   */
  'cachedTokens': (number);
  /**
   * Keys of the prompt's full chunks, in order: what the worker's reported
   * tree (Redis) holds once the prefill is reported.
   */
  'chunkKeys': (string)[];
  'workerId': (string);
  'epoch': (string);
}
