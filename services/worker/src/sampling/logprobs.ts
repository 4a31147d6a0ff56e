// Log-probabilities as the model gives them: log-softmax of the raw logits,
// before temperature, penalties, bias and masks (what vLLM reports by
// default), for the sampled token and the k most likely alternatives.
import type { TokenLogprob } from '../engine/engine-types.ts';

/** log(sum(exp(logits))), stable: shifted by the maximum, summed in float64. */
export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if ((logits[i] as number) > max) max = logits[i] as number;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] as number) - max);
  return max + Math.log(sum);
}

/** The k largest entries' ids, largest first (ties: lower id first); one pass with a small sorted buffer. */
export function topIds(logits: Float32Array, k: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] as number;
    if (ids.length === k && v <= (logits[ids[k - 1] as number] as number)) continue;
    let at = ids.length < k ? ids.length : k - 1;
    while (at > 0 && (logits[ids[at - 1] as number] as number) < v) at--;
    ids.splice(at, ids.length < k ? 0 : 1, i);
    if (ids.length > k) ids.pop();
  }
  return ids;
}

/** The chosen token's log-probability and the top `top` alternatives, from raw logits. */
export function tokenLogprob(logits: Float32Array, token: number, top: number): TokenLogprob {
  const lse = logSumExp(logits);
  return {
    tokenId: token,
    logprob: (logits[token] as number) - lse,
    top:
      top > 0
        ? topIds(logits, top).map((id) => ({ tokenId: id, logprob: (logits[id] as number) - lse }))
        : [],
  };
}
