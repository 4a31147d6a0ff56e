// Seeded randomness for property tests: a failing case prints its seed and
// reruns identically with CHUNKMESH_TEST_SEED.

export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)] as T;
  }
  tokens(n: number, vocab: number): number[] {
    return Array.from({ length: n }, () => this.int(0, vocab - 1));
  }
  floats(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() * 2 - 1;
    return out;
  }
}

export function seeds(count: number): number[] {
  const fixed = process.env.CHUNKMESH_TEST_SEED;
  if (fixed) return [Number(fixed)];
  return Array.from({ length: count }, (_, i) => 1000 + i);
}
