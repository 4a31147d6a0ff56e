// chunkmesh router: tokenises, hashes prompt chunks, places each request on
// the worker with the best cached-prefix-versus-load cost (from the cluster
// index fed by Redis), and forwards it. gRPC Generation and an OpenAI-
// compatible HTTP API (API keys bound to tenants, per-tenant limits, TLS),
// with the control plane's admin endpoints (/admin/v1/jobs, admin keys);
// /metrics, /healthz, /readyz on a separate ops port. Stateless: any number
// of replicas against one Redis place alike. SIGTERM drains: not ready, new
// connections refused, in-flight requests finish within the grace period
// (front/http-drain.ts), then exit 0.
import {
  configOrExit,
  connectRedis,
  createLogger,
  createRegistry,
  loadConfig,
  serveGeneration,
  serveOps,
  serverTlsCredentials,
  watchParent,
} from '@chunkmesh/common';
import { JobClient } from '@chunkmesh/jobs';
import { loadModel, SegmentCachingTokenizer } from '@chunkmesh/model';
import { Authenticator } from './auth/authenticator.ts';
import { loadRouterSecurity } from './auth/router-security.ts';
import { CircuitBreaker } from './forwarding/circuit-breaker.ts';
import { ForwardedLoad } from './forwarding/forwarded-load.ts';
import { RouterCore } from './forwarding/router-core.ts';
import { SessionTable } from './forwarding/session-table.ts';
import { WorkerChannels } from './forwarding/worker-channels.ts';
import { adminJobsHandler } from './front/admin-jobs.ts';
import { describeDeployment } from './front/deployment.ts';
import { routerGenerationHandlers } from './front/grpc-service.ts';
import { guarded } from './front/guarded.ts';
import { HttpDrain } from './front/http-drain.ts';
import { listenHttp } from './front/http-listener.ts';
import { openAiHandler } from './front/openai-http.ts';
import { readyzHandler } from './front/readyz.ts';
import { ClusterIndex } from './index/cluster-index.ts';
import { type Readiness, readiness } from './index/readiness.ts';
import { TenantGate } from './limits/tenant-gate.ts';
import { TenantLimiter } from './limits/tenant-limiter.ts';
import { AccessMetrics } from './metrics/access-metrics.ts';
import { RouterMetrics } from './metrics/router-metrics.ts';
import { registerTemplateMetrics } from './metrics/template-metrics.ts';
import { registerTokenizeMetrics } from './metrics/tokenize-metrics.ts';
import { createPolicy } from './placement/policies.ts';
import { tierWeightsOf } from './placement/tier-weight-options.ts';
import { routerOptions } from './router-options.ts';

const PROGRAM = 'chunkmesh-router';
const cfg = loadConfig(routerOptions, {
  program: PROGRAM,
  summary: 'Prefix-aware router: places requests on the worker holding their prompt prefix, balancing load.',
});
if (!cfg.model) {
  process.stderr.write(`${PROGRAM}: --model DIR is required (see --help)\n`);
  process.exit(2);
}

const log = createLogger({ service: 'router' });
const security = configOrExit(PROGRAM, () => loadRouterSecurity(cfg, log));
const { keys, frontTls, clusterTls, redisTls } = security;
const loaded = await loadModel(cfg.model, { weights: false });
// The front doors tokenise through the segment cache: each earlier turn of a chat once.
const tokenizer = new SegmentCachingTokenizer(loaded.tokenizer, cfg.tokenizeCacheTokens);
if (cfg.tokenizeCacheTokens > 0 && !tokenizer.caching)
  log.info('tokenize cache unused: this tokenizer has no independent pieces between special tokens', {
    tokenizer: loaded.tokenizer.id,
  });
else if (tokenizer.caching && !loaded.tokenizer.segmenter?.words)
  log.info(
    "tokenize word cache unused: this tokenizer's pre-tokenizer is not one known to keep words apart",
    {
      tokenizer: loaded.tokenizer.id,
    },
  );
const bundle = { ...loaded, tokenizer };
const modelId = bundle.model.config.modelId;
// Workers must register the same values, or the router does not place on them.
const constants = { modelId, chunkTokens: cfg.chunkTokens };
// The router's fail-fast Redis connections: the index's, and the admin endpoints' registry reads.
const redisOptions = {
  url: cfg.redisUrl,
  commandTimeoutMs: cfg.redisTimeoutMs,
  log,
  ...(redisTls ? { tls: redisTls } : {}),
};
const redis = connectRedis({ ...redisOptions, name: 'router/index' });
// The stream tail's blocking read must come back well inside the command timeout.
const blockMs = Math.min(1000, Math.floor(cfg.redisTimeoutMs / 2));
const index = new ClusterIndex({ redis, cluster: cfg.cluster, constants, blockMs, log });
await index.start();
const registry = createRegistry({ defaultLabels: { service: 'router' } });
const metrics = new RouterMetrics(registry, index);
const access = new AccessMetrics(registry);
registerTokenizeMetrics(registry, tokenizer);
registerTemplateMetrics(registry, bundle.chatTemplate);
const channels = new WorkerChannels(clusterTls);
const breaker = new CircuitBreaker();
const policy = configOrExit(PROGRAM, () =>
  createPolicy(cfg.policy, {
    loadWeight: cfg.loadWeight,
    guardFactor: cfg.guardFactor,
    guardSlackTokens: cfg.guardSlackTokens,
    tierWeights: tierWeightsOf(cfg),
  }),
);
const core = new RouterCore({
  index,
  policy,
  channels,
  breaker,
  sessions: new SessionTable(cfg.maxSessionBytes),
  forwarded: new ForwardedLoad(),
  metrics,
  constants,
  maxRetries: cfg.maxRetries,
  firstTokenTimeoutMs: cfg.firstTokenTimeoutMs,
  speculationTtlMs: cfg.speculationTtlMs,
  maxInflight: cfg.maxInflight,
  log,
});
const defaultLimits = {
  requestsPerSecond: cfg.tenantRequestsPerSecond,
  tokensPerSecond: cfg.tenantTokensPerSecond,
  maxStreams: cfg.tenantMaxStreams,
};
const gate = new TenantGate(
  core,
  new TenantLimiter({
    limitsOf: (tenant) => ({ ...defaultLimits, ...keys?.limitsOf(tenant) }),
    maxTenants: cfg.tenantLimitStates,
    onReject: (limit, tenant) => access.tenantLimited(limit, tenant),
  }),
  cfg.defaultMaxTokens,
);
const auth = new Authenticator(keys, (reason) => access.authFailure(reason));
// what the router keeps per worker (a channel, breaker state) lives as long as the worker does
const channelSweep = setInterval(() => {
  const live = new Set(index.workers().map((w) => w.workerId));
  channels.retain(live);
  breaker.retain(live);
}, 5_000);

let stopping = false;
const ready = (): Readiness => {
  const r = readiness(index);
  return stopping ? { ...r, ready: false, reason: 'the router is shutting down' } : r;
};
/** How often gRPC health catches up with the live workers. */
const HEALTH_SYNC_MS = 250;
const grpcServer = await serveGeneration({
  host: cfg.host,
  port: cfg.grpcPort,
  maxMessageBytes: cfg.maxBodyBytes,
  ...(frontTls ? { credentials: serverTlsCredentials(frontTls) } : {}),
  handlers: () =>
    routerGenerationHandlers({ core: gate, auth, bundle, index, modelId, chunkTokens: cfg.chunkTokens, log }),
});
const { port: grpcPort, health } = grpcServer;
// The control plane's admin endpoints add jobs to the cluster's queues; their connections are
// made on the first admin call (one for registry reads, fail-fast; BullMQ's own for the queues).
let jobs: { client: JobClient; registry: ReturnType<typeof connectRedis> } | undefined;
const jobClient = (): JobClient => {
  if (!jobs) {
    const registry = connectRedis({ ...redisOptions, name: 'router/admin' });
    const client = new JobClient({
      redis: { url: cfg.redisUrl, ...(redisTls ? { tls: redisTls } : {}) },
      registry,
      cluster: cfg.cluster,
      log,
    });
    jobs = { client, registry };
  }
  return jobs.client;
};
const admin = adminJobsHandler({ auth, jobs: jobClient, maxBodyBytes: cfg.maxBodyBytes, log });
const openAi = openAiHandler({
  core: gate,
  auth,
  bundle,
  deployment: describeDeployment(bundle, modelId, cfg.chunkTokens),
  defaultMaxTokens: cfg.defaultMaxTokens,
  requestTimeoutMs: cfg.requestTimeoutMs,
  maxBodyBytes: cfg.maxBodyBytes,
  log,
});
const drain = new HttpDrain();
const { server: http, port: httpPort } = await listenHttp(
  drain.wrap(
    guarded((req, res) => {
      if (!admin(req, res)) openAi(req, res);
    }, log),
  ),
  { host: cfg.host, port: cfg.httpPort, tls: frontTls },
);
// Never authenticated (probes and Prometheus scrape it): keep it off the public network.
const ops = await serveOps({
  registry,
  port: cfg.opsPort,
  host: cfg.host,
  more: readyzHandler(ready),
});
// gRPC health says what /readyz says: serving while some worker is live (Kubernetes probes
// either and gets one answer).
let serving: boolean | undefined;
const syncHealth = () => {
  const now = ready().ready;
  if (now !== serving) health.setServing(now);
  serving = now;
};
syncHealth();
const healthSync = setInterval(syncHealth, HEALTH_SYNC_MS);
const tls = frontTls !== undefined;
log.info('router serving', {
  grpcPort,
  httpPort,
  opsPort: ops.port,
  tls,
  policy: cfg.policy,
  model: modelId,
});
process.stdout.write(`${JSON.stringify({ event: 'ready', grpcPort, httpPort, opsPort: ops.port, tls })}\n`);

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('draining', { signal, graceMs: cfg.shutdownGraceMs });
  clearInterval(channelSweep);
  clearInterval(healthSync);
  await Promise.all([drain.drain(http, cfg.shutdownGraceMs), grpcServer.stop(cfg.shutdownGraceMs)]);
  await ops.close();
  channels.closeAll();
  security.close();
  await index.stop();
  await jobs?.client.close();
  await jobs?.registry.quit().catch(() => undefined);
  await redis.quit().catch(() => undefined);
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
watchParent(() => void shutdown('parent exited'));
