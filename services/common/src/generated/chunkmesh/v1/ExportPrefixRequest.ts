// Original file: proto/chunkmesh/v1/kv_migration.proto

import type { TokenIds as _chunkmesh_v1_TokenIds, TokenIds__Output as _chunkmesh_v1_TokenIds__Output } from '../../chunkmesh/v1/TokenIds.ts';
import type { Long } from '@grpc/proto-loader';

export interface ExportPrefixRequest {
  /**
   * The prompt, as token ids (the puller tokenizes; both run the same model).
   */
  'tokenIds'?: (_chunkmesh_v1_TokenIds | null);
  /**
   * The chunk-key salt, as in GenerateRequest.
   */
  'tenant'?: (string);
  /**
   * Refused (RESOURCE_EXHAUSTED) when the prefix's cached chunks are more
   * bytes than this; 0: the exporter's own bound.
   */
  'maxBytes'?: (number | string | Long);
}

export interface ExportPrefixRequest__Output {
  /**
   * The prompt, as token ids (the puller tokenizes; both run the same model).
   */
  'tokenIds': (_chunkmesh_v1_TokenIds__Output | null);
  /**
   * The chunk-key salt, as in GenerateRequest.
   */
  'tenant': (string);
  /**
   * Refused (RESOURCE_EXHAUSTED) when the prefix's cached chunks are more
   * bytes than this; 0: the exporter's own bound.
   */
  'maxBytes': (string);
}
