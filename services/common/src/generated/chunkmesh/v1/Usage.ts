// Original file: proto/chunkmesh/v1/generation.proto


export interface Usage {
  'promptTokens'?: (number);
  'completionTokens'?: (number);
  /**
   * Prompt tokens whose KV came from the prefix cache instead of prefill.
   */
  'cachedPromptTokens'?: (number);
  /**
   * Prompt tokens the forward pass ran for this request: once, however many
   * choices (n > 1 forks the prefilled prompt instead of computing it again).
   */
  'computedPromptTokens'?: (number);
  /**
   * Prompt tokens the choices after the first took from that fork.
   */
  'forkedPromptTokens'?: (number);
}

export interface Usage__Output {
  'promptTokens': (number);
  'completionTokens': (number);
  /**
   * Prompt tokens whose KV came from the prefix cache instead of prefill.
   */
  'cachedPromptTokens': (number);
  /**
   * Prompt tokens the forward pass ran for this request: once, however many
   * choices (n > 1 forks the prefilled prompt instead of computing it again).
   */
  'computedPromptTokens': (number);
  /**
   * Prompt tokens the choices after the first took from that fork.
   */
  'forkedPromptTokens': (number);
}
