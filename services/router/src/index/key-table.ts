// A hash table from 64-bit chunk keys to two int32 fields, for the chunk
// table's and the speculation's key lookups: the router's hottest reads, one
// per chunk of every prompt it places.
//
// Open addressing with linear probing over one Int32Array of 4-word slots
// (the key's two 32-bit words as they lie in memory, then fields a and b), so
// a lookup of a key in a table of a million reads one 16-byte slot, one cache
// line: no value object, no bigint. Looking up the keys of a BigUint64Array
// reads their words in place (wordsOf). Field a is never 0 in a used slot (0
// marks a free one); what a and b mean is the caller's. Deletion shifts the
// entries after the hole back (no tombstones), so probes stay short however
// many keys come and go; it moves slots, so a slot number is good only until
// the next insert or delete.

/** Keys per slot at most, before the table doubles. */
const MAX_LOAD = 0.5;
const STRIDE = 4;

export class KeyTable {
  /** Slot s: cells[4s], cells[4s + 1] the key's words, cells[4s + 2] field a (0: free), cells[4s + 3] field b. */
  private cells: Int32Array;
  private bits: number;
  private count = 0;
  private readonly one = new BigUint64Array(1);
  private readonly oneWords = new Int32Array(this.one.buffer);

  constructor(initialSlots = 1024) {
    this.bits = 4;
    while (2 ** this.bits < initialSlots) this.bits++;
    this.cells = new Int32Array(STRIDE * 2 ** this.bits);
  }

  get size(): number {
    return this.count;
  }

  /** The slot of keys[i], or -1, given words = the keys' buffer as 32-bit words (see wordsOf). */
  findAt(words: Int32Array, i: number): number {
    const w0 = words[2 * i] as number;
    const w1 = words[2 * i + 1] as number;
    const cells = this.cells;
    const mask = (cells.length >> 2) - 1;
    for (let s = this.home(w0, w1); ; s = (s + 1) & mask) {
      const at = s << 2;
      if (cells[at + 2] === 0) return -1;
      if (cells[at] === w0 && cells[at + 1] === w1) return s;
    }
  }

  /**
   * Reads the home slot of each of keys[from..n), returning nothing of use: the reads do not depend
   * on each other, so the CPU has many of their cache misses in flight at once, where findAt's
   * probes (each waiting for its slot) would have one at a time. A walk over a prompt's keys calls
   * this first, then finds each key in cache.
   */
  touch(words: Int32Array, from: number, n: number): number {
    const cells = this.cells;
    let sum = 0;
    for (let i = from; i < n; i++)
      sum ^= cells[(this.home(words[2 * i] as number, words[2 * i + 1] as number) << 2) + 2] as number;
    return sum;
  }

  find(key: bigint): number {
    this.one[0] = key;
    return this.findAt(this.oneWords, 0);
  }

  /**
   * The slot of keys[i], made if the key is new (its fields 0: the caller must then set a, else the
   * slot stays free while counted). May grow the table, which moves every slot.
   */
  insertAt(words: Int32Array, i: number): number {
    const w0 = words[2 * i] as number;
    const w1 = words[2 * i + 1] as number;
    let s = this.slotFor(w0, w1);
    if (this.cells[(s << 2) + 2] === 0) {
      if (this.count + 1 > MAX_LOAD * (this.cells.length >> 2)) {
        this.grow();
        s = this.slotFor(w0, w1);
      }
      this.cells[s << 2] = w0;
      this.cells[(s << 2) + 1] = w1;
      this.count++;
    }
    return s;
  }

  insert(key: bigint): number {
    this.one[0] = key;
    return this.insertAt(this.oneWords, 0);
  }

  a(slot: number): number {
    return this.cells[(slot << 2) + 2] as number;
  }

  b(slot: number): number {
    return this.cells[(slot << 2) + 3] as number;
  }

  /** a must not be 0 (0 marks a free slot: use deleteSlot). */
  setA(slot: number, a: number): void {
    if (a === 0) throw new RangeError('KeyTable field a cannot be 0');
    this.cells[(slot << 2) + 2] = a;
  }

  setB(slot: number, b: number): void {
    this.cells[(slot << 2) + 3] = b;
  }

  /** Frees the slot; entries after it may move back into it. */
  deleteSlot(slot: number): void {
    const cells = this.cells;
    const mask = (cells.length >> 2) - 1;
    let hole = slot;
    // Move back every entry of the run after the hole that may live there (its home slot is not
    // cyclically within (hole, s]), so no probe meets a gap before its key.
    for (let s = (hole + 1) & mask; cells[(s << 2) + 2] !== 0; s = (s + 1) & mask) {
      const home = this.home(cells[s << 2] as number, cells[(s << 2) + 1] as number);
      if (((s - home) & mask) >= ((s - hole) & mask)) {
        cells.copyWithin(hole << 2, s << 2, (s << 2) + STRIDE);
        hole = s;
      }
    }
    cells.fill(0, hole << 2, (hole << 2) + STRIDE);
    this.count--;
  }

  delete(key: bigint): boolean {
    const s = this.find(key);
    if (s < 0) return false;
    this.deleteSlot(s);
    return true;
  }

  /** Calls fn with every used slot and its key. fn may change fields, but must not insert or delete. */
  forEach(fn: (slot: number, key: bigint) => void): void {
    const one = new BigUint64Array(1);
    const oneWords = new Int32Array(one.buffer);
    const cells = this.cells;
    for (let s = 0; s < cells.length >> 2; s++) {
      if (cells[(s << 2) + 2] === 0) continue;
      oneWords[0] = cells[s << 2] as number;
      oneWords[1] = cells[(s << 2) + 1] as number;
      fn(s, one[0] as bigint);
    }
  }

  /** The slot holding the key, or the free slot where it would go. */
  private slotFor(w0: number, w1: number): number {
    const cells = this.cells;
    const mask = (cells.length >> 2) - 1;
    let s = this.home(w0, w1);
    for (; cells[(s << 2) + 2] !== 0; s = (s + 1) & mask) {
      if (cells[s << 2] === w0 && cells[(s << 2) + 1] === w1) return s;
    }
    return s;
  }

  /** Multiplicative hashing of both words (chunk keys are hashes already; this also spreads small or patterned keys). */
  private home(w0: number, w1: number): number {
    return Math.imul(w0 ^ Math.imul(w1, 0x85ebca6b), 0x9e3779b1) >>> (32 - this.bits);
  }

  private grow(): void {
    const old = this.cells;
    this.bits++;
    this.cells = new Int32Array(STRIDE * 2 ** this.bits);
    for (let at = 0; at < old.length; at += STRIDE) {
      if (old[at + 2] === 0) continue;
      const t = this.slotFor(old[at] as number, old[at + 1] as number);
      this.cells.set(old.subarray(at, at + STRIDE), t << 2);
    }
  }
}

/** The keys' buffer as 32-bit words, two per key, for KeyTable.findAt and insertAt. */
export function wordsOf(keys: BigUint64Array): Int32Array {
  return new Int32Array(keys.buffer, keys.byteOffset, keys.length * 2);
}
