// Original file: proto/chunkmesh/v1/worker_tiers.proto

import type { TokenIds as _chunkmesh_v1_TokenIds, TokenIds__Output as _chunkmesh_v1_TokenIds__Output } from '../../chunkmesh/v1/TokenIds.ts';
import type { ChatMessage as _chunkmesh_v1_ChatMessage, ChatMessage__Output as _chunkmesh_v1_ChatMessage__Output } from '../../chunkmesh/v1/ChatMessage.ts';

export interface TierMoveRequest {
  'text'?: (string);
  'tokenIds'?: (_chunkmesh_v1_TokenIds | null);
  'messages'?: (_chunkmesh_v1_ChatMessage)[];
  /**
   * The chunk-key salt, as in GenerateRequest.
   */
  'tenant'?: (string);
  /**
   * Spill: "host" (default) or "disk"; restore: ignored (always the device).
   */
  'tier'?: (string);
  /**
   * Exactly one of prompt and messages is set, as in PrefillRequest.
   */
  'prompt'?: "text"|"tokenIds";
}

export interface TierMoveRequest__Output {
  'text'?: (string);
  'tokenIds'?: (_chunkmesh_v1_TokenIds__Output | null);
  'messages': (_chunkmesh_v1_ChatMessage__Output)[];
  /**
   * The chunk-key salt, as in GenerateRequest.
   */
  'tenant': (string);
  /**
   * Spill: "host" (default) or "disk"; restore: ignored (always the device).
   */
  'tier': (string);
  /**
   * Exactly one of prompt and messages is set, as in PrefillRequest.
   */
  'prompt'?: "text"|"tokenIds";
}
