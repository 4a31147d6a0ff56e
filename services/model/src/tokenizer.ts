// What the worker needs from a tokenizer, whatever its format (llama2.c,
// Hugging Face): text to ids for prompts, ids to text for answers.

export interface Tokenizer {
  /** Names the tokenizer (usually its file or model name). */
  id: string;
  vocabSize: number;
  bosTokenId?: number;
  eosTokenIds: number[];
  /** Whether decode() applies clean_up_tokenization_spaces (see clean-up-spaces.ts). */
  readonly cleansUpSpaces: boolean;
  /**
   * addSpecialTokens: put around the text the special tokens the tokenizer's own rules add
   * to one sequence (usually a BOS, sometimes none), as transformers' `tokenizer(text)` does;
   * default false.
   */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** Text of the ids, special tokens left out; cleanUp: false skips the clean-up. */
  decode(ids: number[], opts?: { cleanUp?: boolean }): string;
  /**
   * The bytes one token adds to text in the middle of it (no SentencePiece dummy-prefix
   * stripping; a byte token is its byte, maybe half a UTF-8 character); a special token's
   * own text. What grammar masks match against and logprobs report as `bytes`.
   */
  tokenBytes(id: number): Uint8Array;
  /** Control tokens (BOS, EOS, chat markers): never part of generated text. */
  isSpecial(id: number): boolean;
  /**
   * How encode() splits a text at its added tokens (chat markers and the like), where the pieces
   * between them tokenise independently of each other: what lets a cache tokenise each piece
   * once (segment-cache.ts). Absent for tokenizers where a piece's tokens depend on its
   * neighbours or on where it stands.
   */
  readonly segmenter?: Segmenter;
}

export interface Segmenter {
  /**
   * The text as its pieces (strings, never empty) and, between them, the ids of the added tokens
   * that split it, with the ids encode(text, { addSpecialTokens }) puts around them; null where
   * that encode is not their concatenation (its post-processor adds tokens): encode it whole.
   */
  split(
    text: string,
    addSpecialTokens: boolean,
  ): { parts: (string | number)[]; before: number[]; after: number[] } | null;
  /** The ids of one piece as encode() makes them in place. */
  encodePiece(piece: string): number[];
  /**
   * How a piece splits further into words that tokenise independently of each other (the
   * pre-tokenizer's split: most of a new message's words were seen before, in other messages).
   * Absent where the tokenizer's pre-tokenizer is not one known to split that way.
   */
  readonly words?: WordSplitter;
}

export interface WordSplitter {
  /** The piece's words, in order: its ids are the concatenation of theirs. */
  split(piece: string): string[];
  /**
   * A word's ids, or null where the word alone would not split into itself (its ids then depend
   * on its neighbours: encode the piece whole).
   */
  encodeWord(word: string): number[] | null;
}
