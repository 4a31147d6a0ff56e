// Original file: proto/chunkmesh/v1/generation.proto


/**
 * Newly decoded tokens and the text they complete. Text can lag the tokens
 * (a multi-byte character split across tokens is sent when complete).
 */
export interface TokenChunk {
  'tokenIds'?: (number)[];
  'text'?: (string);
}

/**
 * Newly decoded tokens and the text they complete. Text can lag the tokens
 * (a multi-byte character split across tokens is sent when complete).
 */
export interface TokenChunk__Output {
  'tokenIds': (number)[];
  'text': (string);
}
