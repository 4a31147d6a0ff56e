// Original file: proto/chunkmesh/v1/generation.proto


export interface Choices {
  'values'?: (string)[];
}

export interface Choices__Output {
  'values': (string)[];
}
