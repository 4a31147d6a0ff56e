// Plain softmax attention, written for clarity and computed in float64: the
// oracle the native kernels are checked against.

export interface DenseSeq {
  /** [len][kvHeads][headDim] */
  k: Float32Array;
  v: Float32Array;
  len: number;
}

/**
 * Attention of query rows q ([rows][nHeads][headDim]) over the sequence, row t seeing
 * positions [0, visible(t)). Returns [rows][nHeads][headDim].
 */
export function referenceAttention(
  seq: DenseSeq,
  q: Float32Array,
  rows: number,
  nHeads: number,
  kvHeads: number,
  headDim: number,
  visible: (row: number) => number,
): Float64Array {
  const out = new Float64Array(rows * nHeads * headDim);
  const group = nHeads / kvHeads;
  const scale = 1 / Math.sqrt(headDim);
  for (let t = 0; t < rows; t++) {
    const n = visible(t);
    for (let h = 0; h < nHeads; h++) {
      const kh = Math.floor(h / group);
      const qo = (t * nHeads + h) * headDim;
      const scores = new Float64Array(n);
      let max = -Infinity;
      for (let p = 0; p < n; p++) {
        const ko = (p * kvHeads + kh) * headDim;
        let s = 0;
        for (let i = 0; i < headDim; i++) s += (q[qo + i] as number) * (seq.k[ko + i] as number);
        scores[p] = s * scale;
        if ((scores[p] as number) > max) max = scores[p] as number;
      }
      let sum = 0;
      for (let p = 0; p < n; p++) {
        scores[p] = Math.exp((scores[p] as number) - max);
        sum += scores[p] as number;
      }
      for (let p = 0; p < n; p++) {
        const w = (scores[p] as number) / sum;
        const vo = (p * kvHeads + kh) * headDim;
        for (let i = 0; i < headDim; i++)
          out[qo + i] = (out[qo + i] as number) + w * (seq.v[vo + i] as number);
      }
    }
  }
  return out;
}

/**
 * Largest error of `actual` against `expected`, per (row, head) vector relative to that
 * vector's largest magnitude: softmax outputs are averages, so a per-element relative
 * error would blow up on entries that happen to be near zero.
 */
export function maxRelativeError(actual: Float32Array, expected: Float64Array, headDim: number): number {
  let worst = 0;
  for (let o = 0; o < expected.length; o += headDim) {
    let scale = 0;
    for (let i = 0; i < headDim; i++) scale = Math.max(scale, Math.abs(expected[o + i] as number));
    for (let i = 0; i < headDim; i++) {
      const err = Math.abs((actual[o + i] as number) - (expected[o + i] as number)) / Math.max(scale, 1e-30);
      if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
    }
  }
  return worst;
}
