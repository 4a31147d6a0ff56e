// Original file: proto/chunkmesh/v1/generation.proto

import type { TokenIds as _chunkmesh_v1_TokenIds, TokenIds__Output as _chunkmesh_v1_TokenIds__Output } from '../../chunkmesh/v1/TokenIds.ts';
import type { ChatMessage as _chunkmesh_v1_ChatMessage, ChatMessage__Output as _chunkmesh_v1_ChatMessage__Output } from '../../chunkmesh/v1/ChatMessage.ts';
import type { SamplingParams as _chunkmesh_v1_SamplingParams, SamplingParams__Output as _chunkmesh_v1_SamplingParams__Output } from '../../chunkmesh/v1/SamplingParams.ts';
import type { Tool as _chunkmesh_v1_Tool, Tool__Output as _chunkmesh_v1_Tool__Output } from '../../chunkmesh/v1/Tool.ts';

export interface GenerateRequest {
  'text'?: (string);
  'tokenIds'?: (_chunkmesh_v1_TokenIds | null);
  /**
   * A chat, rendered with the model's own chat template before tokenising.
   */
  'messages'?: (_chunkmesh_v1_ChatMessage)[];
  'sampling'?: (_chunkmesh_v1_SamplingParams | null);
  /**
   * Prefix-cache isolation domain: requests of different tenants never share
   * KV (the tenant is the chunk-key salt). Empty is the default tenant.
   */
  'tenant'?: (string);
  /**
   * Conversation id; requests of one session are kept on the worker that
   * holds its earlier turns when load allows.
   */
  'sessionId'?: (string);
  /**
   * Caller's id for logs and traces; the router makes one up when empty.
   */
  'requestId'?: (string);
  /**
   * Functions the model may call (chat prompts): rendered into the prompt by
   * the model's chat template (or the documented fallback), the output parsed
   * into Final.choices[].tool_calls.
   */
  'tools'?: (_chunkmesh_v1_Tool)[];
  /**
   * "auto" (the default with tools), "none", "required", or a tool's name;
   * "required" and a name constrain decoding to a call of the tool's schema.
   */
  'toolChoice'?: (string);
  /**
   * Exactly one of prompt and messages is set.
   */
  'prompt'?: "text"|"tokenIds";
}

export interface GenerateRequest__Output {
  'text'?: (string);
  'tokenIds'?: (_chunkmesh_v1_TokenIds__Output | null);
  /**
   * A chat, rendered with the model's own chat template before tokenising.
   */
  'messages': (_chunkmesh_v1_ChatMessage__Output)[];
  'sampling': (_chunkmesh_v1_SamplingParams__Output | null);
  /**
   * Prefix-cache isolation domain: requests of different tenants never share
   * KV (the tenant is the chunk-key salt). Empty is the default tenant.
   */
  'tenant': (string);
  /**
   * Conversation id; requests of one session are kept on the worker that
   * holds its earlier turns when load allows.
   */
  'sessionId': (string);
  /**
   * Caller's id for logs and traces; the router makes one up when empty.
   */
  'requestId': (string);
  /**
   * Functions the model may call (chat prompts): rendered into the prompt by
   * the model's chat template (or the documented fallback), the output parsed
   * into Final.choices[].tool_calls.
   */
  'tools': (_chunkmesh_v1_Tool__Output)[];
  /**
   * "auto" (the default with tools), "none", "required", or a tool's name;
   * "required" and a name constrain decoding to a call of the tool's schema.
   */
  'toolChoice': (string);
  /**
   * Exactly one of prompt and messages is set.
   */
  'prompt'?: "text"|"tokenIds";
}
