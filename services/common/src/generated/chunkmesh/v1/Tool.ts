// Original file: proto/chunkmesh/v1/generation.proto


export interface Tool {
  'name'?: (string);
  'description'?: (string);
  /**
   * JSON Schema of the arguments object, as JSON text; empty: any object.
   */
  'parameters'?: (string);
}

export interface Tool__Output {
  'name': (string);
  'description': (string);
  /**
   * JSON Schema of the arguments object, as JSON text; empty: any object.
   */
  'parameters': (string);
}
