// A plain float64 Llama-family forward pass over a whole sequence, written
// from the model definitions rather than from the native code: what the native
// Model must match. Also random weights for any config.
import type { LoadedModel, ModelConfig, TensorMap } from '../../lib/index.ts';
import type { Rng } from './random.ts';

/** Random weights of the config's canonical tensors, scaled so activations stay near unit size. */
export function randomModel(config: ModelConfig, rng: Rng): LoadedModel {
  const { dim, hiddenDim: hidden, headDim, vocabSize: vocab } = config;
  const q = config.heads * headDim;
  const kv = config.kvHeads * headDim;
  const tensors: TensorMap = new Map();
  const matrix = (name: string, out: number, inp: number) => {
    const w = rng.floats(out * inp);
    const scale = 1.5 / Math.sqrt(inp);
    for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) * scale;
    tensors.set(name, w);
  };
  const norm = (name: string) =>
    tensors.set(
      name,
      rng.floats(dim).map((x) => 1 + 0.2 * x),
    );
  tensors.set('tok_embeddings', rng.floats(vocab * dim));
  for (let l = 0; l < config.layers; l++) {
    const p = `layers.${l}.`;
    norm(`${p}attention_norm`);
    matrix(`${p}wq`, q, dim);
    matrix(`${p}wk`, kv, dim);
    matrix(`${p}wv`, kv, dim);
    matrix(`${p}wo`, dim, q);
    if (config.qkvBias) {
      tensors.set(`${p}bq`, rng.floats(q));
      tensors.set(`${p}bk`, rng.floats(kv));
      tensors.set(`${p}bv`, rng.floats(kv));
    }
    norm(`${p}ffn_norm`);
    matrix(`${p}w1`, hidden, dim);
    matrix(`${p}w2`, dim, hidden);
    matrix(`${p}w3`, hidden, dim);
  }
  norm('norm');
  if (!config.tiedEmbeddings) matrix('output', vocab, dim);
  return { config, tensors };
}

/** RoPE inverse frequencies with the config's scaling, as Hugging Face's rope_init_fn computes them. */
function inverseFrequencies(c: ModelConfig): number[] {
  const base = Array.from({ length: c.headDim / 2 }, (_, i) => c.ropeTheta ** ((-2 * i) / c.headDim));
  const s = c.ropeScaling;
  if (!s) return base;
  if (s.type === 'linear') return base.map((f) => f / s.factor);
  const low = s.lowFreqFactor as number;
  const high = s.highFreqFactor as number;
  const original = s.originalMaxPositionEmbeddings as number;
  return base.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    const scaled = wavelen > original / low ? f / s.factor : f;
    const medium = !(wavelen < original / high) && !(wavelen > original / low);
    const smooth = (original / wavelen - low) / (high - low);
    return medium ? ((1 - smooth) * scaled) / s.factor + smooth * scaled : scaled;
  });
}

function rope(c: ModelConfig, x: Float64Array, heads: number, pos: number, inv: number[]): void {
  const half = c.headDim / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const [a, b] = c.ropeLayout === 'pairs' ? [2 * i, 2 * i + 1] : [i, i + half];
      const ia = h * c.headDim + a;
      const ib = h * c.headDim + b;
      const angle = pos * (inv[i] as number);
      const xa = x[ia] as number;
      const xb = x[ib] as number;
      x[ia] = xa * Math.cos(angle) - xb * Math.sin(angle);
      x[ib] = xa * Math.sin(angle) + xb * Math.cos(angle);
    }
  }
}

function matvec(w: Float32Array, x: Float64Array, out: number, bias?: Float32Array): Float64Array {
  const inp = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = bias ? (bias[o] as number) : 0;
    for (let i = 0; i < inp; i++) s += (w[o * inp + i] as number) * (x[i] as number);
    y[o] = s;
  }
  return y;
}

function rmsnorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * scale * (w[i] as number));
}

/** Logits of the last token of the sequence, attending causally over all of it. */
export function referenceLogits(model: LoadedModel, tokens: number[]): Float64Array {
  const c = model.config;
  const t = (name: string) => model.tensors.get(name) as Float32Array;
  const d = c.headDim;
  const group = c.heads / c.kvHeads;
  const inv = inverseFrequencies(c);
  const xs = tokens.map((tok) =>
    Float64Array.from(t('tok_embeddings').subarray(tok * c.dim, (tok + 1) * c.dim)),
  );
  for (let l = 0; l < c.layers; l++) {
    const p = `layers.${l}.`;
    const bias = (name: string) => (c.qkvBias ? t(p + name) : undefined);
    const ks: Float64Array[] = [];
    const vs: Float64Array[] = [];
    const qs = xs.map((x, pos) => {
      const xb = rmsnorm(x, t(`${p}attention_norm`), c.normEps);
      const q = matvec(t(`${p}wq`), xb, c.heads * d, bias('bq'));
      const k = matvec(t(`${p}wk`), xb, c.kvHeads * d, bias('bk'));
      rope(c, q, c.heads, pos, inv);
      rope(c, k, c.kvHeads, pos, inv);
      ks.push(k);
      vs.push(matvec(t(`${p}wv`), xb, c.kvHeads * d, bias('bv')));
      return q;
    });
    xs.forEach((x, pos) => {
      const att = new Float64Array(c.heads * d);
      for (let h = 0; h < c.heads; h++) {
        const kvh = Math.floor(h / group);
        const scores = Array.from({ length: pos + 1 }, (_, s) => {
          let dot = 0;
          for (let i = 0; i < d; i++)
            dot += (qs[pos]?.[h * d + i] as number) * (ks[s]?.[kvh * d + i] as number);
          return dot / Math.sqrt(d);
        });
        const max = Math.max(...scores);
        const weights = scores.map((s) => Math.exp(s - max));
        const sum = weights.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= pos; s++) {
          for (let i = 0; i < d; i++) {
            att[h * d + i] =
              (att[h * d + i] as number) + ((weights[s] as number) / sum) * (vs[s]?.[kvh * d + i] as number);
          }
        }
      }
      const o = matvec(t(`${p}wo`), att, c.dim);
      for (let i = 0; i < c.dim; i++) x[i] = (x[i] as number) + (o[i] as number);
      const xb = rmsnorm(x, t(`${p}ffn_norm`), c.normEps);
      const g = matvec(t(`${p}w1`), xb, c.hiddenDim);
      const u = matvec(t(`${p}w3`), xb, c.hiddenDim);
      const h = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * (u[i] as number));
      const down = matvec(t(`${p}w2`), h, c.dim);
      for (let i = 0; i < c.dim; i++) x[i] = (x[i] as number) + (down[i] as number);
    });
  }
  const last = rmsnorm(xs[xs.length - 1] as Float64Array, t('norm'), c.normEps);
  return matvec(c.tiedEmbeddings ? t('tok_embeddings') : t('output'), last, c.vocabSize);
}
