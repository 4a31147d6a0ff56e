// Placement decisions recorded before the worker's events confirm them, so a
// burst of requests with the same new prefix lands on the same worker. An
// entry counts until it expires; by then the worker's 'stored' events have
// put the real entry in the chunk table (or the guess was wrong and should
// stop attracting requests). Bounded like the chunk table: past maxKeys,
// guesses are not recorded.
//
// Per key, one KeyTable slot: a key guessed onto one holder (the common case)
// is a = its serial, b = when the guess expires, so recording and reading a
// guess allocates nothing; a key guessed onto several is a = -(1 + a list
// index), the list holding [serial, expiry, serial, expiry...]. Expiry times
// are int32 milliseconds after `base`, which moves to now (every stored time
// shifted) before they could overflow.
import type { Guesses, Holder } from './chunk-table.ts';
import { KeyTable, wordsOf } from './key-table.ts';

/** Longest guess accepted, and how far `base` may fall behind now: times stay below 2^31 ms after it. */
const MAX_TTL_MS = 2 ** 29;
const REBASE_AFTER_MS = 2 ** 29;

export class Speculation implements Guesses {
  private readonly table = new KeyTable();
  private readonly lists: number[][] = [];
  private readonly freeLists: number[] = [];
  /** Holders with guesses (since the last sweep), by serial. */
  private readonly bySerial = new Map<number, Holder>();
  private base = Date.now();

  constructor(
    private readonly maxKeys: number,
    /** False for holders that are gone; their guesses are ignored and swept. */
    private readonly isLive: (holder: Holder) => boolean,
  ) {}

  add(holder: Holder, keys: BigUint64Array, ttlMs: number, now = Date.now()): void {
    if (!(ttlMs >= 0 && ttlMs <= MAX_TTL_MS))
      throw new RangeError(`speculation TTL must be in [0, 2^29] ms, got ${ttlMs}`);
    if (Math.abs(now - this.base) > REBASE_AFTER_MS) this.rebase(now);
    const until = now + ttlMs - this.base;
    const serial = holder.serial;
    this.bySerial.set(serial, holder);
    const t = this.table;
    const words = wordsOf(keys);
    t.touch(words, 0, keys.length);
    for (let i = 0; i < keys.length; i++) {
      let s = t.findAt(words, i);
      if (s < 0) {
        if (t.size >= this.maxKeys) continue;
        s = t.insertAt(words, i);
        t.setA(s, serial);
        t.setB(s, until);
        continue;
      }
      const a = t.a(s);
      if (a === serial) {
        if (until > t.b(s)) t.setB(s, until);
      } else if (a > 0) {
        const l = this.freeLists.pop() ?? this.lists.length;
        this.lists[l] = [a, t.b(s), serial, until];
        t.setA(s, -(l + 1));
        t.setB(s, 0);
      } else {
        const list = this.lists[-a - 1] as number[];
        let k = 0;
        while (k < list.length && list[k] !== serial) k += 2;
        if (k === list.length) list.push(serial, until);
        else if (until > (list[k + 1] as number)) list[k + 1] = until;
      }
    }
  }

  findAt(words: Int32Array, i: number): number {
    return this.table.findAt(words, i);
  }

  has(slot: number, serial: number, now: number): boolean {
    const at = now - this.base;
    const a = this.table.a(slot);
    if (a > 0) return a === serial && this.table.b(slot) > at && this.live(serial);
    const list = this.lists[-a - 1] as number[];
    for (let k = 0; k < list.length; k += 2)
      if (list[k] === serial) return (list[k + 1] as number) > at && this.live(serial);
    return false;
  }

  standing(slot: number, now: number, out: number[]): void {
    const at = now - this.base;
    const a = this.table.a(slot);
    if (a > 0) {
      if (this.table.b(slot) > at && this.live(a)) out.push(a);
      return;
    }
    const list = this.lists[-a - 1] as number[];
    for (let k = 0; k < list.length; k += 2) {
      const serial = list[k] as number;
      if ((list[k + 1] as number) > at && this.live(serial)) out.push(serial);
    }
  }

  holder(serial: number): Holder | undefined {
    return this.bySerial.get(serial);
  }

  /** Drops expired guesses and those of gone holders, and forgets holders with none left. */
  sweep(now = Date.now()): void {
    if (Math.abs(now - this.base) > REBASE_AFTER_MS) this.rebase(now);
    const at = now - this.base;
    const t = this.table;
    const emptied: bigint[] = [];
    const guessing = new Set<number>();
    t.forEach((s, key) => {
      const a = t.a(s);
      if (a > 0) {
        if (t.b(s) > at && this.live(a)) guessing.add(a);
        else emptied.push(key);
        return;
      }
      const list = this.lists[-a - 1] as number[];
      let kept = 0;
      for (let k = 0; k < list.length; k += 2) {
        const serial = list[k] as number;
        const until = list[k + 1] as number;
        if (until > at && this.live(serial)) {
          guessing.add(serial);
          list[kept++] = serial;
          list[kept++] = until;
        }
      }
      list.length = kept;
      if (kept > 2) return;
      this.freeLists.push(-a - 1);
      if (kept === 0) emptied.push(key);
      else {
        t.setA(s, list[0] as number);
        t.setB(s, list[1] as number);
      }
    });
    for (const key of emptied) t.delete(key);
    for (const serial of this.bySerial.keys()) if (!guessing.has(serial)) this.bySerial.delete(serial);
  }

  get size(): number {
    return this.table.size;
  }

  private live(serial: number): boolean {
    const h = this.bySerial.get(serial);
    return h !== undefined && this.isLive(h);
  }

  /** Moves base to now, shifting every stored expiry by the same amount. */
  private rebase(now: number): void {
    const shift = now - this.base;
    this.base = now;
    const t = this.table;
    // Expired times only need to stay expired, and none lies more than the longest TTL ahead
    // (a clock stepped back could push them further): clamped, they stay in int32.
    const moved = (until: number) => Math.min(Math.max(until - shift, -1), MAX_TTL_MS);
    t.forEach((s) => {
      const a = t.a(s);
      if (a > 0) t.setB(s, moved(t.b(s)));
      else {
        const list = this.lists[-a - 1] as number[];
        for (let k = 1; k < list.length; k += 2) list[k] = moved(list[k] as number);
      }
    });
  }
}
