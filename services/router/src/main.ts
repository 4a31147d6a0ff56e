// chunkmesh router: tokenises, hashes prompt chunks, places each request on
// the worker with the best cached-prefix-versus-load cost (from the cluster
// index fed by Redis), and forwards it. gRPC Generation and an OpenAI-
// compatible HTTP API; /metrics, /healthz, /readyz. Stateless: any number of
// replicas against one Redis place alike.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  connectRedis,
  createLogger,
  createRegistry,
  loadConfig,
  opsHandler,
  serveGeneration,
  watchParent,
} from '@chunkmesh/common';
import { loadModel } from '@chunkmesh/model';
import { CircuitBreaker } from './forwarding/circuit-breaker.ts';
import { RouterCore } from './forwarding/router-core.ts';
import { SessionTable } from './forwarding/session-table.ts';
import { WorkerChannels } from './forwarding/worker-channels.ts';
import { describeDeployment } from './front/deployment.ts';
import { routerGenerationHandlers } from './front/grpc-service.ts';
import { openAiHandler } from './front/openai-http.ts';
import { ClusterIndex } from './index/cluster-index.ts';
import { readiness } from './index/readiness.ts';
import { RouterMetrics } from './metrics/router-metrics.ts';
import { createPolicy } from './placement/policies.ts';
import { routerOptions } from './router-options.ts';

const cfg = loadConfig(routerOptions, {
  program: 'chunkmesh-router',
  summary: 'Prefix-aware router: places requests on the worker holding their prompt prefix, balancing load.',
});
if (!cfg.model) {
  process.stderr.write('chunkmesh-router: --model DIR is required (see --help)\n');
  process.exit(2);
}

const log = createLogger({ service: 'router' });
const bundle = await loadModel(cfg.model, { weights: false });
const modelId = bundle.model.config.modelId;
// Workers must register the same values, or the router does not place on them.
const constants = { modelId, chunkTokens: cfg.chunkTokens };
const redis = connectRedis({ url: cfg.redisUrl, name: 'router/index', log });
const index = new ClusterIndex({ redis, cluster: cfg.cluster, constants, log });
await index.start();
const registry = createRegistry({ defaultLabels: { service: 'router' } });
const metrics = new RouterMetrics(registry, index);
const channels = new WorkerChannels();
const breaker = new CircuitBreaker();
const core = new RouterCore({
  index,
  policy: createPolicy(cfg.policy, {
    loadWeight: cfg.loadWeight,
    guardFactor: cfg.guardFactor,
    guardSlackTokens: cfg.guardSlackTokens,
  }),
  channels,
  breaker,
  sessions: new SessionTable(),
  metrics,
  constants,
  maxRetries: cfg.maxRetries,
  speculationTtlMs: cfg.speculationTtlMs,
  maxInflight: cfg.maxInflight,
  log,
});
// what the router keeps per worker (a channel, breaker state) lives as long as the worker does
const channelSweep = setInterval(() => {
  const live = new Set(index.workers().map((w) => w.workerId));
  channels.retain(live);
  breaker.retain(live);
}, 5_000);

let stopping = false;
const ready = () => readiness(index).ready;
/** How often gRPC health catches up with the live workers. */
const HEALTH_SYNC_MS = 250;
const {
  server,
  port: grpcPort,
  health,
} = await serveGeneration({
  host: cfg.host,
  port: cfg.grpcPort,
  handlers: () =>
    routerGenerationHandlers({ core, bundle, index, modelId, chunkTokens: cfg.chunkTokens, log }),
});
const http = createServer(
  openAiHandler({
    core,
    bundle,
    deployment: describeDeployment(bundle, modelId, cfg.chunkTokens),
    ops: opsHandler(registry, () => true),
    ready: () => readiness(index),
    defaultMaxTokens: cfg.defaultMaxTokens,
    requestTimeoutMs: cfg.requestTimeoutMs,
    maxBodyBytes: cfg.maxBodyBytes,
    log,
  }),
);
await new Promise<void>((resolve, reject) => {
  http.once('error', reject);
  http.listen(cfg.httpPort, cfg.host, () => resolve());
});
const httpPort = (http.address() as AddressInfo).port;
// gRPC health says what /readyz says: serving while some worker is live (Kubernetes probes
// either and gets one answer).
let serving: boolean | undefined;
const syncHealth = () => {
  const now = !stopping && ready();
  if (now !== serving) health.setServing(now);
  serving = now;
};
syncHealth();
const healthSync = setInterval(syncHealth, HEALTH_SYNC_MS);
log.info('router serving', { grpcPort, httpPort, policy: cfg.policy, model: modelId });
process.stdout.write(`${JSON.stringify({ event: 'ready', grpcPort, httpPort })}\n`);

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('stopping', { signal });
  health.setServing(false);
  clearInterval(channelSweep);
  clearInterval(healthSync);
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeIdleConnections();
  });
  channels.closeAll();
  await index.stop();
  await redis.quit().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
watchParent(() => void shutdown('parent exited'));
