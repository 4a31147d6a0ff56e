// Original file: proto/chunkmesh/v1/generation.proto


export interface ToolCall {
  'id'?: (string);
  'name'?: (string);
  /**
   * The arguments as JSON text.
   */
  'arguments'?: (string);
}

export interface ToolCall__Output {
  'id': (string);
  'name': (string);
  /**
   * The arguments as JSON text.
   */
  'arguments': (string);
}
