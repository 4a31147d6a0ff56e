// The worker as a library, for the benches and the tests that drive it in
// process: the runtime (model, KV cache, engine), the constraint compiler and
// token masks (bench:mask), and the reporter that
// publishes a tree's events to Redis; the metrics, whose names the dashboards
// are checked against. The worker process itself is ./main.
export type { GenerateEvent, GenerateInput } from './engine/engine-types.ts';
export { WorkerMetrics } from './metrics/worker-metrics.ts';
export { KvReporter, type KvReporterOptions } from './reporting/kv-reporter.ts';
export { ConstraintCompiler } from './sampling/grammar/constraint-compiler.ts';
export { applyTokenMask } from './sampling/token-mask.ts';
export { createWorkerRuntime, type WorkerRuntime } from './worker-runtime.ts';
