// A hash map from 64-bit chunk keys to values, for the chunk table's and the
// speculation's key lookups: the router's hottest reads, one per chunk of
// every prompt it places.
// Open addressing with linear probing over typed arrays: a key is its two
// 32-bit words, so looking up the keys of a BigUint64Array reads them without
// making a bigint per key, and a lookup touches one slot's words and its value
// (a Map<bigint, V> also reads a bucket, an entry and the key's bigint, each
// a likely cache miss in a table of a million keys). Deletion shifts the
// entries after the hole back (no tombstones), so probes stay short however
// many keys come and go.

/** Keys per slot at most, before the table doubles. */
const MAX_LOAD = 0.5;

export class KeyMap<V> {
  /** Slot s holds the key whose words are words[2s], words[2s + 1] (as they lie in memory), when values[s] is set. */
  private words: Uint32Array;
  private values: (V | undefined)[];
  private bits: number;
  private count = 0;
  private readonly one = new BigUint64Array(1);
  private readonly oneWords = new Uint32Array(this.one.buffer);

  constructor(initialSlots = 1024) {
    this.bits = 4;
    while (2 ** this.bits < initialSlots) this.bits++;
    this.words = new Uint32Array(2 * 2 ** this.bits);
    this.values = new Array(2 ** this.bits);
  }

  get size(): number {
    return this.count;
  }

  /** The value of keys[i], given words = the keys' buffer as 32-bit words (see wordsOf). */
  getAt(words: Uint32Array, i: number): V | undefined {
    const w0 = words[2 * i] as number;
    const w1 = words[2 * i + 1] as number;
    const mask = this.values.length - 1;
    for (let s = this.home(w0, w1); ; s = (s + 1) & mask) {
      const v = this.values[s];
      if (v === undefined) return undefined;
      if (this.words[2 * s] === w0 && this.words[2 * s + 1] === w1) return v;
    }
  }

  get(key: bigint): V | undefined {
    this.one[0] = key;
    return this.getAt(this.oneWords, 0);
  }

  /** value must not be undefined (undefined marks a free slot). */
  set(key: bigint, value: V): void {
    this.one[0] = key;
    this.setAt(this.oneWords, 0, value);
  }

  /** Sets keys[i], given words = the keys' buffer as 32-bit words (see wordsOf): no bigint made. */
  setAt(words: Uint32Array, i: number, value: V): void {
    if (value === undefined) throw new TypeError('KeyMap values cannot be undefined');
    const w0 = words[2 * i] as number;
    const w1 = words[2 * i + 1] as number;
    let s = this.find(w0, w1);
    if (this.values[s] === undefined) {
      if (this.count + 1 > MAX_LOAD * this.values.length) {
        this.grow();
        s = this.find(w0, w1);
      }
      this.words[2 * s] = w0;
      this.words[2 * s + 1] = w1;
      this.count++;
    }
    this.values[s] = value;
  }

  delete(key: bigint): boolean {
    this.one[0] = key;
    let hole = this.find(this.oneWords[0] as number, this.oneWords[1] as number);
    if (this.values[hole] === undefined) return false;
    const mask = this.values.length - 1;
    // Move back every entry of the run after the hole that may live there (its home slot is not
    // cyclically within (hole, s]), so no probe meets a gap before its key.
    for (let s = (hole + 1) & mask; ; s = (s + 1) & mask) {
      const v = this.values[s];
      if (v === undefined) break;
      const w0 = this.words[2 * s] as number;
      const w1 = this.words[2 * s + 1] as number;
      const home = this.home(w0, w1);
      if (((s - home) & mask) >= ((s - hole) & mask)) {
        this.values[hole] = v;
        this.words[2 * hole] = w0;
        this.words[2 * hole + 1] = w1;
        hole = s;
      }
    }
    this.values[hole] = undefined;
    this.count--;
    return true;
  }

  /** Calls fn with every entry. fn must not add or delete keys (collect them, then change the map). */
  forEach(fn: (value: V, key: bigint) => void): void {
    const one = new BigUint64Array(1);
    const oneWords = new Uint32Array(one.buffer);
    for (let s = 0; s < this.values.length; s++) {
      const v = this.values[s];
      if (v === undefined) continue;
      oneWords[0] = this.words[2 * s] as number;
      oneWords[1] = this.words[2 * s + 1] as number;
      fn(v, one[0] as bigint);
    }
  }

  /** The slot holding the key, or the free slot where it would go. */
  private find(w0: number, w1: number): number {
    const mask = this.values.length - 1;
    let s = this.home(w0, w1);
    for (; this.values[s] !== undefined; s = (s + 1) & mask) {
      if (this.words[2 * s] === w0 && this.words[2 * s + 1] === w1) return s;
    }
    return s;
  }

  /** Multiplicative hashing of both words (chunk keys are hashes already; this also spreads small or patterned keys). */
  private home(w0: number, w1: number): number {
    return Math.imul(w0 ^ Math.imul(w1, 0x85ebca6b), 0x9e3779b1) >>> (32 - this.bits);
  }

  private grow(): void {
    const words = this.words;
    const values = this.values;
    this.bits++;
    this.words = new Uint32Array(2 * 2 ** this.bits);
    this.values = new Array(2 ** this.bits);
    for (let s = 0; s < values.length; s++) {
      const v = values[s];
      if (v === undefined) continue;
      const w0 = words[2 * s] as number;
      const w1 = words[2 * s + 1] as number;
      const t = this.find(w0, w1);
      this.words[2 * t] = w0;
      this.words[2 * t + 1] = w1;
      this.values[t] = v;
    }
  }
}

/** The keys' buffer as 32-bit words, two per key, for KeyMap.getAt. */
export function wordsOf(keys: BigUint64Array): Uint32Array {
  return new Uint32Array(keys.buffer, keys.byteOffset, keys.length * 2);
}
