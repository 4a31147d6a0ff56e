// Test support shared by the package tests (services/*/test) and the
// cross-process suites (test/): the services as child processes, a private
// redis-server, clients for what they serve, the vendored fixtures, and
// tree-event sources for the reporting path.

// The private redis-server and the service launcher `chunkmesh up` itself uses,
// and the command's paths: its launcher, the repository, the vendored trace.
export {
  CHUNKMESH_BIN,
  MOONCAKE_TRACE,
  REPO_ROOT,
  RedisServer,
  type RedisServerOptions,
  ServiceProcess,
  SOURCE_NODE_ARGS,
} from '@chunkmesh/cli';
// The worker's reporter: the reference writer of the Redis layout, for tests of its readers.
export { KvReporter, type KvReporterOptions } from '@chunkmesh/worker';
export { inPool, tcpConnects } from './concurrency.ts';
export { generateGreedy, storiesCache } from './greedy-generation.ts';
export {
  type Completion,
  collect,
  completeOn,
  expectStatus,
  generate,
  type HealthWatch,
  healthCheck,
  healthWatch,
  info,
  reflectedFiles,
  reflectedServices,
} from './grpc-client.ts';
export { type JobRunnerProcess, jobsCli, startJobRunner } from './job-runner-process.ts';
export { ResidentReference, randomKeys, randomTierEvents, TreeEventSource } from './kv-events.ts';
export {
  LoadGenerator,
  type LoadOptions,
  type LoadSummary,
  type Outcome,
  type RequestRecord,
  seeded,
  summarize,
} from './load-generator.ts';
export {
  type GoldenResults,
  TOKENIZER_GOLDEN,
  type TokenizerGolden,
  type TokenizerVariant,
  writeTokenizerVariant,
} from './real-tokenizers.ts';
export { readWorkerView, setDiff, waitForAgreement } from './redis-view.ts';
export { type RouterProcess, scrapeMetrics, startRouter, waitFor } from './router-process.ts';
export { SseReader } from './sse.ts';
export { CHECKPOINT, REFERENCE_TEXT, STORIES_DIR, TOKENIZER, tokenRun } from './stories260k.ts';
export { TcpRelay } from './tcp-relay.ts';
export { type IssuedCertificate, TestPki } from './test-pki.ts';
export { startWorker, uniqueCluster, type WorkerProcess } from './worker-process.ts';
