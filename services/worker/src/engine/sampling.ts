// Token sampling from one row of logits: greedy at temperature 0, otherwise
// temperature, then top-k, then top-p (nucleus), drawn from a per-request
// seeded generator so a given seed reproduces its output.

export interface SamplingParams {
  /** 0 (the default) is greedy. */
  temperature: number;
  /** 0 disables. */
  topK: number;
  /** 1 disables. */
  topP: number;
  seed?: number;
}

export class Sampler {
  private state: number;

  constructor(private readonly params: SamplingParams) {
    this.state = (params.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0 || 0x9e3779b9;
  }

  /** xorshift32: uniform in [0, 1). */
  private uniform(): number {
    let s = this.state;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.state = s >>> 0;
    return this.state / 4294967296;
  }

  sample(logits: Float32Array): number {
    if (this.params.temperature <= 0) return argmax(logits);
    const invT = 1 / this.params.temperature;
    const max = logits[argmax(logits)] as number;
    // Tokens weighted below e^-20 of the best one cannot move top-k/top-p cut-offs in any
    // practical way; dropping them first keeps the sort small on 100K+ vocabularies.
    const floor = max - 20 / invT;
    const candidates: number[] = [];
    for (let i = 0; i < logits.length; i++) if ((logits[i] as number) >= floor) candidates.push(i);
    candidates.sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
    let kept = this.params.topK > 0 ? Math.min(this.params.topK, candidates.length) : candidates.length;
    const weights = new Float64Array(kept);
    let total = 0;
    for (let i = 0; i < kept; i++) {
      weights[i] = Math.exp(((logits[candidates[i] as number] as number) - max) * invT);
      total += weights[i] as number;
    }
    if (this.params.topP < 1) {
      let mass = 0;
      let n = 0;
      while (n < kept && mass < this.params.topP * total) mass += weights[n++] as number;
      kept = Math.max(1, n);
      total = mass;
    }
    let r = this.uniform() * total;
    for (let i = 0; i < kept; i++) {
      r -= weights[i] as number;
      if (r <= 0) return candidates[i] as number;
    }
    return candidates[kept - 1] as number;
  }
}

export function argmax(xs: Float32Array): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    if ((xs[i] as number) > bestValue) {
      bestValue = xs[i] as number;
      best = i;
    }
  }
  return best;
}
