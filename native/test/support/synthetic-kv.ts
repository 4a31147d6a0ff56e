// K/V for tests, as a real model would have them: the vector at position p
// depends on every token up to p (through a running hash), so sequences with
// equal prefixes hold equal KV and the tree may share it, while any
// difference earlier in the prompt changes everything after it.

export interface KvGeometry {
  layers: number;
  kvHeads: number;
  headDim: number;
}

function mix(h: number, x: number): number {
  let z = (h ^ Math.imul(x + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Running hash per position: hashes[p] names tokens[0..p]. */
export function prefixHashes(tokens: readonly number[]): Uint32Array {
  const out = new Uint32Array(tokens.length);
  let h = 0x12345678;
  for (let p = 0; p < tokens.length; p++) {
    h = mix(h, tokens[p] as number);
    out[p] = h;
  }
  return out;
}

/** K and V of positions [from, to) for one layer: each [to - from][kvHeads][headDim] in [-1, 1). */
export function syntheticKv(
  g: KvGeometry,
  hashes: Uint32Array,
  layer: number,
  from: number,
  to: number,
): { k: Float32Array; v: Float32Array } {
  const per = g.kvHeads * g.headDim;
  const k = new Float32Array((to - from) * per);
  const v = new Float32Array((to - from) * per);
  for (let p = from; p < to; p++) {
    const base = mix(hashes[p] as number, layer);
    for (let i = 0; i < per; i++) {
      const hk = mix(base, 2 * i);
      const hv = mix(base, 2 * i + 1);
      k[(p - from) * per + i] = hk / 2147483648 - 1;
      v[(p - from) * per + i] = hv / 2147483648 - 1;
    }
  }
  return { k, v };
}
