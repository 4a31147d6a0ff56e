// Original file: proto/chunkmesh/v1/kv_migration.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One whole chunk of the prefix, in order from the first.
 */
export interface KvChunk {
  'index'?: (number);
  'key'?: (number | string | Long);
  /**
   * Of key and kv (native/src/kv/kv_transfer.h).
   */
  'checksum'?: (number | string | Long);
  /**
   * For each layer, K then V of the chunk's rows, [chunk_tokens][kv_heads][head_dim] fp32, little-endian.
   */
  'kv'?: (Buffer | Uint8Array | string);
}

/**
 * One whole chunk of the prefix, in order from the first.
 */
export interface KvChunk__Output {
  'index': (number);
  'key': (string);
  /**
   * Of key and kv (native/src/kv/kv_transfer.h).
   */
  'checksum': (string);
  /**
   * For each layer, K then V of the chunk's rows, [chunk_tokens][kv_heads][head_dim] fp32, little-endian.
   */
  'kv': (Buffer);
}
