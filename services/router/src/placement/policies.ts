// Policies by the name the --policy flag takes.
import type { PlacementPolicy } from './placement-policy.ts';
import { DEFAULT_PREFIX_AWARE, type PrefixAwareOptions, PrefixAwarePolicy } from './prefix-aware.ts';
import { ConsistentHashPolicy, LeastLoadedPolicy, RoundRobinPolicy } from './simple-policies.ts';

export const POLICY_NAMES = ['prefix-aware', 'round-robin', 'least-loaded', 'consistent-hash'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export function createPolicy(
  name: string,
  prefixAware: PrefixAwareOptions = DEFAULT_PREFIX_AWARE,
): PlacementPolicy {
  switch (name) {
    case 'prefix-aware':
      return new PrefixAwarePolicy(prefixAware);
    case 'round-robin':
      return new RoundRobinPolicy();
    case 'least-loaded':
      return new LeastLoadedPolicy();
    case 'consistent-hash':
      return new ConsistentHashPolicy();
    default:
      throw new Error(`unknown placement policy '${name}' (choose one of: ${POLICY_NAMES.join(', ')})`);
  }
}
