// Original file: proto/chunkmesh/v1/generation.proto


export interface TopLogprob {
  'tokenId'?: (number);
  'logprob'?: (number | string);
}

export interface TopLogprob__Output {
  'tokenId': (number);
  'logprob': (number);
}
