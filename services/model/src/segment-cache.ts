// A tokenizer that tokenises each piece of text between added tokens once:
// in a conversation every earlier turn sits between chat markers, so each
// request then tokenises only its new turn and the template's short pieces
// between markers (which hit too). The pieces' ids come from the tokenizer's
// own Segmenter (tokenizer.ts), which makes the result exactly encode()'s;
// tokenizers without one, and 0 tokens of cache, encode whole.
// A new piece, where the tokenizer's words are independent too (its
// Segmenter's WordSplitter), is put together from a second cache of words:
// a new message is mostly words seen before.
// Memory is bounded by the tokens held, in each of the two caches: least
// recently used entries go first, and one larger than its whole cache is
// tokenised and not kept.
import { TokenLru } from './token-lru.ts';
import type { Segmenter, Tokenizer } from './tokenizer.ts';

export interface SegmentCacheStats {
  /** Pieces found in the cache, and pieces tokenised (whole encodes not counted). */
  hits: number;
  misses: number;
  /** Tokens and pieces held now. */
  tokens: number;
  pieces: number;
  /** Words of missed pieces found in the word cache, and words tokenised. */
  wordHits: number;
  wordMisses: number;
  /** Tokens and words held now in the word cache. */
  wordTokens: number;
  words: number;
}

export class SegmentCachingTokenizer implements Tokenizer {
  readonly id: string;
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenIds: number[];
  readonly cleansUpSpaces: boolean;
  private readonly pieces: TokenLru;
  private readonly words: TokenLru;
  private hits = 0;
  private misses = 0;
  private wordHits = 0;
  private wordMisses = 0;

  constructor(
    private readonly inner: Tokenizer,
    private readonly maxTokens: number,
  ) {
    if (!Number.isInteger(maxTokens) || maxTokens < 0)
      throw new RangeError(`the tokenize cache's size must be an integer >= 0 tokens, got ${maxTokens}`);
    this.id = inner.id;
    this.vocabSize = inner.vocabSize;
    if (inner.bosTokenId !== undefined) this.bosTokenId = inner.bosTokenId;
    this.eosTokenIds = inner.eosTokenIds;
    this.cleansUpSpaces = inner.cleansUpSpaces;
    this.pieces = new TokenLru(maxTokens);
    this.words = new TokenLru(maxTokens);
  }

  /** Whether encode() uses the cache at all (a segmenter, and room for tokens). */
  get caching(): boolean {
    return this.maxTokens > 0 && this.inner.segmenter !== undefined;
  }

  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    const segmenter = this.inner.segmenter;
    const split =
      this.maxTokens > 0 && segmenter ? segmenter.split(text, opts.addSpecialTokens === true) : null;
    if (!segmenter || !split) return this.inner.encode(text, opts);
    const out = [...split.before];
    for (const part of split.parts) {
      if (typeof part === 'number') out.push(part);
      else for (const id of this.piece(segmenter, part)) out.push(id);
    }
    for (const id of split.after) out.push(id);
    return out;
  }

  decode(ids: number[], opts?: { cleanUp?: boolean }): string {
    return this.inner.decode(ids, opts);
  }

  tokenBytes(id: number): Uint8Array {
    return this.inner.tokenBytes(id);
  }

  isSpecial(id: number): boolean {
    return this.inner.isSpecial(id);
  }

  stats(): SegmentCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      tokens: this.pieces.tokens,
      pieces: this.pieces.size,
      wordHits: this.wordHits,
      wordMisses: this.wordMisses,
      wordTokens: this.words.tokens,
      words: this.words.size,
    };
  }

  private piece(segmenter: Segmenter, text: string): readonly number[] {
    const held = this.pieces.get(text);
    if (held !== undefined) {
      this.hits++;
      return held;
    }
    this.misses++;
    const ids = this.fromWords(segmenter, text) ?? segmenter.encodePiece(text);
    this.pieces.set(text, ids);
    return ids;
  }

  /** A new piece's ids from its words, or null without a word split or with a word that has none. */
  private fromWords(segmenter: Segmenter, piece: string): number[] | null {
    const words = segmenter.words;
    if (!words) return null;
    const out: number[] = [];
    for (const word of words.split(piece)) {
      let ids = this.words.get(word);
      if (ids !== undefined) this.wordHits++;
      else {
        this.wordMisses++;
        const made = words.encodeWord(word);
        if (made === null) return null;
        this.words.set(word, made);
        ids = made;
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }
}
