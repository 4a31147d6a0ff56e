// The prefix-aware policy's tier weights as flags and environment variables,
// one table for the router and `chunkmesh replay` (which places through the
// same decision).
import { defineOptions } from '@chunkmesh/common';
import { checkTierWeights, DEFAULT_PREFIX_AWARE, type TierWeights } from './prefix-aware.ts';

const DEFAULT = DEFAULT_PREFIX_AWARE.tierWeights;

export const tierWeightOptions = defineOptions({
  tierWeightDevice: {
    type: 'number',
    default: DEFAULT.device,
    min: 0,
    max: 1,
    help: 'prefix-aware: what a cached token on the device saves, relative to prefill avoided',
  },
  tierWeightHost: {
    type: 'number',
    default: DEFAULT.host,
    min: 0,
    max: 1,
    help: 'prefix-aware: what a cached token in host memory saves (restored by a copy); <= the device weight',
  },
  tierWeightDisk: {
    type: 'number',
    default: DEFAULT.disk,
    min: 0,
    max: 1,
    help: 'prefix-aware: what a cached token on disk saves (restored by a read); <= the host weight',
  },
});

/** The weights a parsed configuration gives; ConfigError when they rise down the tiers. */
export function tierWeightsOf(cfg: {
  tierWeightDevice: number;
  tierWeightHost: number;
  tierWeightDisk: number;
}): TierWeights {
  return checkTierWeights({
    device: cfg.tierWeightDevice,
    host: cfg.tierWeightHost,
    disk: cfg.tierWeightDisk,
  });
}
