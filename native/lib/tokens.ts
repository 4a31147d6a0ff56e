import { InvalidArgumentError } from './errors.ts';

/** Token ids as the addon wants them; rejects non-integers instead of truncating them. */
export function toInt32Tokens(tokens: ArrayLike<number>): Int32Array {
  if (tokens instanceof Int32Array) return tokens;
  const out = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as number;
    if (!Number.isInteger(t) || t < 0 || t > 0x7fffffff) {
      throw new InvalidArgumentError(`token at index ${i} must be a non-negative integer, got ${t}`);
    }
    out[i] = t;
  }
  return out;
}
