// Placement decisions recorded before the worker's events confirm them, so a
// burst of requests with the same new prefix lands on the same worker. An
// entry counts until it expires; by then the worker's 'stored' events have
// put the real entry in the chunk table (or the guess was wrong and should
// stop attracting requests). Bounded like the chunk table: past maxKeys,
// guesses are not recorded.
import type { Holder } from './chunk-table.ts';

interface Guess {
  holder: Holder;
  expiresAt: number;
}

export class Speculation {
  private readonly guesses = new Map<bigint, Guess[]>();

  constructor(
    private readonly maxKeys: number,
    /** False for holders that are gone; their guesses are ignored and swept. */
    private readonly isLive: (holder: Holder) => boolean,
  ) {}

  add(holder: Holder, keys: BigUint64Array, ttlMs: number, now = Date.now()): void {
    const expiresAt = now + ttlMs;
    for (const key of keys) {
      const list = this.guesses.get(key);
      const mine = list?.find((g) => g.holder === holder);
      if (mine) mine.expiresAt = Math.max(mine.expiresAt, expiresAt);
      else if (list) list.push({ holder, expiresAt });
      else if (this.guesses.size < this.maxKeys) this.guesses.set(key, [{ holder, expiresAt }]);
    }
  }

  /** Holders guessed for the key, or undefined (the common case, kept allocation-free). */
  holdersOf(key: bigint, now = Date.now()): Holder[] | undefined {
    const list = this.guesses.get(key);
    if (!list) return undefined;
    const out = list.filter((g) => g.expiresAt > now && this.isLive(g.holder)).map((g) => g.holder);
    return out.length > 0 ? out : undefined;
  }

  /** Drops expired guesses and those of gone holders. */
  sweep(now = Date.now()): void {
    for (const [key, list] of this.guesses) {
      const kept = list.filter((g) => g.expiresAt > now && this.isLive(g.holder));
      if (kept.length === 0) this.guesses.delete(key);
      else if (kept.length !== list.length) this.guesses.set(key, kept);
    }
  }

  get size(): number {
    return this.guesses.size;
  }
}
