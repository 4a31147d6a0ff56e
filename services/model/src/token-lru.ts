// Texts and their token ids, bounded by the tokens held, evicting what was
// used longest ago: the tokenize cache keeps its pieces and its words in one
// each (segment-cache.ts). Two generations rather than an exact LRU order: a
// hit in the young generation is one Map lookup, where keeping an exact order
// cost a delete and a re-insert per hit (a quarter of the router's tokenising
// time on multi-turn chats, which hit a few hundred words a request).
//
// Invariants: young and old each hold at most half the bound's tokens (an
// entry larger than that is not kept), so at most maxTokens are held; a text
// is in at most one generation. When the young generation is full it becomes
// the old one and the old one is dropped; an old entry that is used moves to
// the young one. So an entry survives at least maxTokens/2 tokens of entries
// kept or used after its last use, and never more than maxTokens.

export class TokenLru {
  private young = new Map<string, readonly number[]>();
  private old = new Map<string, readonly number[]>();
  private youngTokens = 0;
  private oldTokens = 0;
  private readonly half: number;

  constructor(maxTokens: number) {
    this.half = Math.floor(maxTokens / 2);
  }

  get tokens(): number {
    return this.youngTokens + this.oldTokens;
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  /** The ids of `text`, now among the most recently used; undefined when not held. */
  get(text: string): readonly number[] | undefined {
    const young = this.young.get(text);
    if (young !== undefined) return young;
    const old = this.old.get(text);
    if (old !== undefined) {
      this.old.delete(text);
      this.oldTokens -= old.length;
      this.keep(text, old);
    }
    return old;
  }

  /** Keeps `text`'s ids (not already held), dropping the least recently used past the bound. */
  set(text: string, ids: readonly number[]): void {
    if (ids.length > this.half) return;
    this.keep(text, ids);
  }

  private keep(text: string, ids: readonly number[]): void {
    if (this.youngTokens + ids.length > this.half) {
      this.old = this.young;
      this.oldTokens = this.youngTokens;
      this.young = new Map();
      this.youngTokens = 0;
    }
    this.young.set(text, ids);
    this.youngTokens += ids.length;
  }
}
