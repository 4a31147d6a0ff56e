// Original file: proto/chunkmesh/v1/generation.proto

import type { ToolCall as _chunkmesh_v1_ToolCall, ToolCall__Output as _chunkmesh_v1_ToolCall__Output } from '../../chunkmesh/v1/ToolCall.ts';

export interface ChatMessage {
  /**
   * "system", "user", "assistant" or whatever the chat template knows.
   */
  'role'?: (string);
  'content'?: (string);
  /**
   * assistant: the calls it made, rendered back into the prompt.
   */
  'toolCalls'?: (_chunkmesh_v1_ToolCall)[];
  /**
   * tool: the call this message answers, and the function's name.
   */
  'toolCallId'?: (string);
  'name'?: (string);
}

export interface ChatMessage__Output {
  /**
   * "system", "user", "assistant" or whatever the chat template knows.
   */
  'role': (string);
  'content': (string);
  /**
   * assistant: the calls it made, rendered back into the prompt.
   */
  'toolCalls': (_chunkmesh_v1_ToolCall__Output)[];
  /**
   * tool: the call this message answers, and the function's name.
   */
  'toolCallId': (string);
  'name': (string);
}
