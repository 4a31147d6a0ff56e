import { InvalidArgumentError } from './errors.ts';

let scratch = new Int32Array(0);

/**
 * Token ids as the addon wants them; rejects non-integers instead of truncating them. reuse: the result may be a buffer shared by every such call, for
 * callers whose addon call reads it before anything else runs (no allocation per call).
 */
export function toInt32Tokens(tokens: ArrayLike<number>, reuse = false): Int32Array {
  if (tokens instanceof Int32Array) return tokens;
  const length = tokens.length;
  let out: Int32Array;
  if (!reuse) out = new Int32Array(length);
  else {
    if (scratch.length < length) scratch = new Int32Array(Math.max(length, 2 * scratch.length));
    out = scratch.subarray(0, length);
  }
  for (let i = 0; i < length; i++) {
    const t = tokens[i] as number;
    // One test for a non-negative int32: >>> 0 changes anything else (fractions, NaN, negatives, 2^32+).
    if (t >>> 0 !== t || t > 0x7fffffff) {
      throw new InvalidArgumentError(`token at index ${i} must be a non-negative integer, got ${t}`);
    }
    out[i] = t;
  }
  return out;
}
