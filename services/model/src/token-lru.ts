// Texts and their token ids, least recently used first, bounded by the tokens
// held: the tokenize cache keeps its pieces and its words in one each
// (segment-cache.ts). An entry larger than the whole bound is not kept.

export class TokenLru {
  /** Text -> its ids, least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<string, readonly number[]>();
  private heldTokens = 0;

  constructor(private readonly maxTokens: number) {}

  get tokens(): number {
    return this.heldTokens;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The ids of `text`, now the most recently used; undefined when not held. */
  get(text: string): readonly number[] | undefined {
    const ids = this.entries.get(text);
    if (ids !== undefined) {
      this.entries.delete(text);
      this.entries.set(text, ids);
    }
    return ids;
  }

  /** Keeps `text`'s ids (not already held), dropping the least recently used past the bound. */
  set(text: string, ids: readonly number[]): void {
    if (ids.length > this.maxTokens) return;
    this.entries.set(text, ids);
    this.heldTokens += ids.length;
    for (const [oldest, oldIds] of this.entries) {
      if (this.heldTokens <= this.maxTokens) break;
      this.entries.delete(oldest);
      this.heldTokens -= oldIds.length;
    }
  }
}
