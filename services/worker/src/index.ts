// The worker as a library, for the benches and the tests that drive it in
// process: the runtime (model, KV cache, engine) and the reporter that
// publishes a tree's events to Redis. The worker process itself is ./main.
export type { GenerateEvent, GenerateInput } from './engine/engine-types.ts';
export { KvReporter, type KvReporterOptions } from './reporting/kv-reporter.ts';
export { createWorkerRuntime, type WorkerRuntime } from './worker-runtime.ts';
