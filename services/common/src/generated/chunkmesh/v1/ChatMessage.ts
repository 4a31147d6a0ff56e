// Original file: proto/chunkmesh/v1/generation.proto


export interface ChatMessage {
  /**
   * "system", "user", "assistant" or whatever the chat template knows.
   */
  'role'?: (string);
  'content'?: (string);
}

export interface ChatMessage__Output {
  /**
   * "system", "user", "assistant" or whatever the chat template knows.
   */
  'role': (string);
  'content': (string);
}
