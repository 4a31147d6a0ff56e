// Original file: proto/chunkmesh/v1/kv_migration.proto

import type { Long } from '@grpc/proto-loader';

export interface PullPrefixResponse {
  'promptTokens'?: (number);
  /**
   * Keys of the chunks received, in order: all cached here now, and what the
   * worker's reported tree (Redis) holds once the import is reported.
   */
  'chunkKeys'?: (number | string | Long)[];
  /**
   * Tokens of those chunks this worker did not hold before.
   */
  'importedTokens'?: (number);
  /**
   * KV bytes received.
   */
  'bytes'?: (number | string | Long);
  'workerId'?: (string);
  'epoch'?: (number | string | Long);
}

export interface PullPrefixResponse__Output {
  'promptTokens': (number);
  /**
   * Keys of the chunks received, in order: all cached here now, and what the
   * worker's reported tree (Redis) holds once the import is reported.
   */
  'chunkKeys': (string)[];
  /**
   * Tokens of those chunks this worker did not hold before.
   */
  'importedTokens': (number);
  /**
   * KV bytes received.
   */
  'bytes': (string);
  'workerId': (string);
  'epoch': (string);
}
