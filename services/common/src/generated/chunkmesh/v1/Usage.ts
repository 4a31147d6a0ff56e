// Original file: proto/chunkmesh/v1/generation.proto


export interface Usage {
  'promptTokens'?: (number);
  'completionTokens'?: (number);
  /**
   * Prompt tokens whose KV came from the prefix cache instead of prefill.
   */
  'cachedPromptTokens'?: (number);
}

export interface Usage__Output {
  'promptTokens': (number);
  'completionTokens': (number);
  /**
   * Prompt tokens whose KV came from the prefix cache instead of prefill.
   */
  'cachedPromptTokens': (number);
}
