// Streaming detokenization. A token can end in the middle of a UTF-8 character
// (byte-level BPE, byte-fallback pieces), and decoders may change how a token
// reads depending on its neighbours (leading-space stripping), so text is
// produced by decoding a window of ids and emitting only what grew at its end.
// A trailing U+FFFD means an incomplete character: it is held back until the
// next token completes it (or flush() gives up on it).
//
// The window (as in vLLM's incremental detokenizer) starts a few tokens before
// the unemitted ones rather than at the first token, so the cost per token stays
// constant instead of growing with the length of the output.
//
// Windows are decoded without clean_up_tokenization_spaces: it removes a space
// depending on what follows it, so decoded windows would not extend each other.
// When the tokenizer cleans up, the raw text goes through a SpaceCleaner, which
// emits what no later token can change; the deltas then concatenate to the
// tokenizer's own decode of the generated ids.
import { SpaceCleaner } from './clean-up-spaces.ts';
import type { Tokenizer } from './tokenizer.ts';

type Decoder = Pick<Tokenizer, 'decode' | 'cleansUpSpaces'>;

const REPLACEMENT = '\uFFFD';
/** Prompt ids kept as decoding context: enough for a multi-byte character split over tokens. */
const CONTEXT_TOKENS = 4;

export class TextStream {
  private readonly ids: number[] = [];
  /** Start of the decode window. */
  private prefixOffset = 0;
  /** Ids before this one have been emitted as text. */
  private readOffset = 0;
  private readonly cleaner: SpaceCleaner | undefined;

  /**
   * context: the ids just before the first generated one (the prompt's tail). They are decoded
   * with the output but never emitted, so a decoder that reads a token differently after them
   * (llama2.c strips the leading space after BOS) shapes the first delta correctly.
   */
  constructor(
    private readonly tokenizer: Decoder,
    context: readonly number[] = [],
  ) {
    this.ids.push(...context.slice(-CONTEXT_TOKENS));
    this.readOffset = this.ids.length;
    this.cleaner = tokenizer.cleansUpSpaces ? new SpaceCleaner() : undefined;
  }

  /** Adds one generated token; returns the text it completes (possibly empty). */
  push(id: number): string {
    this.ids.push(id);
    const raw = this.emit(false);
    return this.cleaner ? this.cleaner.push(raw) : raw;
  }

  /** Returns whatever is still held back (an incomplete character comes out as U+FFFD). */
  flush(): string {
    const raw = this.emit(true);
    return this.cleaner ? this.cleaner.push(raw) + this.cleaner.flush() : raw;
  }

  /** Raw text completed since the last call. */
  private emit(final: boolean): string {
    if (this.readOffset === this.ids.length) return '';
    const window = this.ids.slice(this.prefixOffset);
    const done = this.readOffset - this.prefixOffset;
    const raw = { cleanUp: false };
    const before = done > 0 ? this.tokenizer.decode(window.slice(0, done), raw) : '';
    const after = this.tokenizer.decode(window, raw);
    if (!final && (after.endsWith(REPLACEMENT) || after.length <= before.length)) return '';
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return after.slice(before.length);
  }
}
