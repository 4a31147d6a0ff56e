// Whether a waiting request should read its prefix back from disk or
// recompute it: the one decision of the tiered store that weighs two rates
// (CachedAttention's point: a restore only pays when it beats the prefill it
// replaces). Both rates are measured when the worker starts.
import type { Hold } from '@chunkmesh/native';

/** auto: restore when the read beats recomputing (restoreEstimate); always / never: as named. */
export type RestoreMode = 'auto' | 'always' | 'never';

export interface RestoreRates {
  /** Bytes per second the disk tier reads (measured on its file at start). */
  diskReadBytesPerSecond: number;
  /** Prompt tokens per second a prefill computes (measured with the model at start). */
  prefillTokensPerSecond: number;
  chunkTokens: number;
  chunkBytes: number;
}

export interface RestoreEstimate {
  restore: boolean;
  restoreSeconds: number;
  recomputeSeconds: number;
}

/**
 * Restoring reads every disk chunk of the matched prefix; not restoring recomputes everything from
 * the first chunk that is not on the device or host (the rest of the prefix cannot be used without
 * it). Restore when the read is the faster of the two.
 */
export function restoreEstimate(
  hold: Hold,
  rates: RestoreRates,
  mode: RestoreMode = 'auto',
): RestoreEstimate {
  const matched = hold.tokens.device + hold.tokens.host + hold.tokens.disk;
  const restoreSeconds =
    ((hold.tokens.disk / rates.chunkTokens) * rates.chunkBytes) / Math.max(1, rates.diskReadBytesPerSecond);
  const recomputeSeconds = (matched - hold.usableTokens) / Math.max(1, rates.prefillTokensPerSecond);
  const faster = restoreSeconds < recomputeSeconds;
  return {
    restore: hold.tokens.disk > 0 && (mode === 'always' || (mode === 'auto' && faster)),
    restoreSeconds,
    recomputeSeconds,
  };
}
