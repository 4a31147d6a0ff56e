// A tokenizer that tokenises each piece of text between added tokens once:
// in a conversation every earlier turn sits between chat markers, so each
// request then tokenises only its new turn and the template's short pieces
// between markers (which hit too). The pieces' ids come from the tokenizer's
// own Segmenter (tokenizer.ts), which makes the result exactly encode()'s;
// tokenizers without one, and 0 tokens of cache, encode whole.
// Memory is bounded by the tokens held: least recently used pieces go first,
// and a piece larger than the whole cache is tokenised and not kept.
import type { Segmenter, Tokenizer } from './tokenizer.ts';

export interface SegmentCacheStats {
  /** Pieces found in the cache, and pieces tokenised (whole encodes not counted). */
  hits: number;
  misses: number;
  /** Tokens and pieces held now. */
  tokens: number;
  pieces: number;
}

export class SegmentCachingTokenizer implements Tokenizer {
  readonly id: string;
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenIds: number[];
  readonly cleansUpSpaces: boolean;
  /** Piece -> its ids, least recently used first (a Map keeps insertion order). */
  private readonly pieces = new Map<string, number[]>();
  private heldTokens = 0;
  private hits = 0;
  private misses = 0;

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
    return { hits: this.hits, misses: this.misses, tokens: this.heldTokens, pieces: this.pieces.size };
  }

  private piece(segmenter: Segmenter, text: string): readonly number[] {
    const held = this.pieces.get(text);
    if (held !== undefined) {
      this.hits++;
      this.pieces.delete(text);
      this.pieces.set(text, held);
      return held;
    }
    this.misses++;
    const ids = segmenter.encodePiece(text);
    if (ids.length > this.maxTokens) return ids;
    this.pieces.set(text, ids);
    this.heldTokens += ids.length;
    for (const [oldest, oldIds] of this.pieces) {
      if (this.heldTokens <= this.maxTokens) break;
      this.pieces.delete(oldest);
      this.heldTokens -= oldIds.length;
    }
    return ids;
  }
}
