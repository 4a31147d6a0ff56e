// Original file: proto/chunkmesh/v1/kv_migration.proto

import type { TokenIds as _chunkmesh_v1_TokenIds, TokenIds__Output as _chunkmesh_v1_TokenIds__Output } from '../../chunkmesh/v1/TokenIds.ts';
import type { ChatMessage as _chunkmesh_v1_ChatMessage, ChatMessage__Output as _chunkmesh_v1_ChatMessage__Output } from '../../chunkmesh/v1/ChatMessage.ts';
import type { Long } from '@grpc/proto-loader';

export interface PullPrefixRequest {
  'text'?: (string);
  'tokenIds'?: (_chunkmesh_v1_TokenIds | null);
  'messages'?: (_chunkmesh_v1_ChatMessage)[];
  'tenant'?: (string);
  'requestId'?: (string);
  /**
   * The worker to pull from: its gRPC endpoint and its id (the TLS server name under cluster TLS).
   */
  'sourceEndpoint'?: (string);
  'sourceWorkerId'?: (string);
  /**
   * As ExportPrefixRequest.max_bytes.
   */
  'maxBytes'?: (number | string | Long);
  /**
   * Exactly one of prompt and messages is set, as in PrefillRequest.
   */
  'prompt'?: "text"|"tokenIds";
}

export interface PullPrefixRequest__Output {
  'text'?: (string);
  'tokenIds'?: (_chunkmesh_v1_TokenIds__Output | null);
  'messages': (_chunkmesh_v1_ChatMessage__Output)[];
  'tenant': (string);
  'requestId': (string);
  /**
   * The worker to pull from: its gRPC endpoint and its id (the TLS server name under cluster TLS).
   */
  'sourceEndpoint': (string);
  'sourceWorkerId': (string);
  /**
   * As ExportPrefixRequest.max_bytes.
   */
  'maxBytes': (string);
  /**
   * Exactly one of prompt and messages is set, as in PrefillRequest.
   */
  'prompt'?: "text"|"tokenIds";
}
