// What the worker needs from a tokenizer, whatever its format (llama2.c,
// Hugging Face): text to ids for prompts, ids to text for answers.

export interface Tokenizer {
  /** Names the tokenizer (usually its file or model name). */
  id: string;
  vocabSize: number;
  bosTokenId?: number;
  eosTokenIds: number[];
  /** addBos: put the BOS token first, when the tokenizer has one (default false). */
  encode(text: string, opts?: { addBos?: boolean }): number[];
  /** Text of the ids, special tokens left out. */
  decode(ids: number[]): string;
}
