// The router as a library, for `chunkmesh replay`, the benches and the tests
// that build its parts in process: the cluster index, placement policies and
// the decision that uses them, trace replay, and the metrics whose names the
// dashboards are checked against; API keys as the key file stores them
// (for `chunkmesh api-key`). The router process itself is ./main.
export { hashApiKey, newApiKey } from './auth/api-key.ts';
export { keyFileLine } from './auth/key-file.ts';
export { CircuitBreaker } from './forwarding/circuit-breaker.ts';
export { ForwardedLoad } from './forwarding/forwarded-load.ts';
export { placementPool } from './forwarding/placement-pool.ts';
export { ClusterIndex } from './index/cluster-index.ts';
export { AccessMetrics } from './metrics/access-metrics.ts';
export { RouterMetrics, TENANT_LABEL_LIMIT } from './metrics/router-metrics.ts';
export { registerTemplateMetrics } from './metrics/template-metrics.ts';
export { registerTokenizeMetrics } from './metrics/tokenize-metrics.ts';
export { type DecideOptions, type DecisionStage, decide } from './placement/decide.ts';
export { createPolicy, POLICY_NAMES } from './placement/policies.ts';
export { DEFAULT_PREFIX_AWARE, PrefixAwarePolicy } from './placement/prefix-aware.ts';
export { tierWeightOptions, tierWeightsOf } from './placement/tier-weight-options.ts';
export { readTrace } from './replay/mooncake-trace.ts';
export { pooledUpperBound, type ReplayOptions, type ReplayResult, replay } from './replay/replay.ts';
