// Placement decisions recorded before the worker's events confirm them, so a
// burst of requests with the same new prefix lands on the same worker. An
// entry counts until it expires; by then the worker's 'stored' events have
// put the real entry in the chunk table (or the guess was wrong and should
// stop attracting requests). Bounded like the chunk table: past maxKeys,
// guesses are not recorded.
import type { Holder } from './chunk-table.ts';
import { KeyMap, wordsOf } from './key-map.ts';

/**
 * The guesses of one key, index for index: holders[i] until expiresAt[i]. Parallel arrays, so
 * finding a holder compares references without touching one object per guess (a hot prefix's
 * keys are guessed onto many workers).
 */
interface Guesses {
  holders: Holder[];
  expiresAt: number[];
}

export class Speculation {
  private readonly guesses = new KeyMap<Guesses>();

  constructor(
    private readonly maxKeys: number,
    /** False for holders that are gone; their guesses are ignored and swept. */
    private readonly isLive: (holder: Holder) => boolean,
  ) {}

  add(holder: Holder, keys: BigUint64Array, ttlMs: number, now = Date.now()): void {
    const expiresAt = now + ttlMs;
    const words = wordsOf(keys);
    for (let i = 0; i < keys.length; i++) {
      const g = this.guesses.getAt(words, i);
      if (g === undefined) {
        if (this.guesses.size < this.maxKeys)
          this.guesses.setAt(words, i, { holders: [holder], expiresAt: [expiresAt] });
        continue;
      }
      const j = g.holders.indexOf(holder);
      if (j < 0) {
        g.holders.push(holder);
        g.expiresAt.push(expiresAt);
      } else if (expiresAt > (g.expiresAt[j] as number)) g.expiresAt[j] = expiresAt;
    }
  }

  /** Holders guessed for the key, or undefined (the common case, kept allocation-free). */
  holdersOf(key: bigint, now = Date.now()): Holder[] | undefined {
    const g = this.guesses.get(key);
    if (g === undefined) return undefined;
    let out: Holder[] | undefined;
    for (let j = 0; j < g.holders.length; j++) {
      const h = g.holders[j] as Holder;
      if ((g.expiresAt[j] as number) <= now || !this.isLive(h)) continue;
      if (out === undefined) out = [h];
      else out.push(h);
    }
    return out;
  }

  /** Drops expired guesses and those of gone holders. */
  sweep(now = Date.now()): void {
    const emptied: bigint[] = [];
    this.guesses.forEach((g, key) => {
      let kept = 0;
      for (let j = 0; j < g.holders.length; j++) {
        const h = g.holders[j] as Holder;
        const until = g.expiresAt[j] as number;
        if (until > now && this.isLive(h)) {
          g.holders[kept] = h;
          g.expiresAt[kept++] = until;
        }
      }
      if (kept === 0) emptied.push(key);
      else g.holders.length = g.expiresAt.length = kept;
    });
    for (const key of emptied) this.guesses.delete(key);
  }

  get size(): number {
    return this.guesses.size;
  }
}
