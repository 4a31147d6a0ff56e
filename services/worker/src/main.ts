// chunkmesh worker: loads a model, serves Generation over gRPC (with health
// and reflection), exports Prometheus metrics, and reports its prefix tree to
// Redis. Health (gRPC and /healthz) turns SERVING once the model is loaded on
// the addon and, when it reports to Redis, it has registered there (routers
// find a worker only through Redis: a Redis that refuses its password or ACL
// user keeps it NOT_SERVING, with an error in the log); a later Redis outage
// leaves it SERVING, since routers keep placing on it from their index. A
// worker whose id another live process holds in Redis does not register and
// is not ready until that entry lapses (kv-reporter.ts). With the cluster
// certificates it serves mutual TLS only (callers need a cluster-CA
// certificate; its own names its worker id). SIGTERM (or WorkerControl.Drain,
// the worker.drain job) drains: NOT_SERVING and the registry entry marked
// draining (routers stop placing here), finish or cancel in-flight streams
// within the grace period, flush events, deregister, end health watches,
// exit 0. WorkerControl (server/control-service.ts) serves the control plane.

import {
  clusterServerCredentials,
  clusterTlsOf,
  clusterTlsProtection,
  configOrExit,
  connectRedis,
  createLogger,
  createRegistry,
  enforceMode,
  loadConfig,
  newEpoch,
  redisTlsOf,
  serveGeneration,
  serveOps,
  watchParent,
} from '@chunkmesh/common';
import type { EngineObserver } from './engine/engine-types.ts';
import { WorkerMetrics } from './metrics/worker-metrics.ts';
import { KvReporter } from './reporting/kv-reporter.ts';
import { controlHandlers } from './server/control-service.ts';
import { generationHandlers } from './server/generation-service.ts';
import { migrationHandlers } from './server/migration-service.ts';
import { residentHandlers } from './server/resident-service.ts';
import { tierHandlers } from './server/tier-service.ts';
import { checkOwnIdentity } from './worker-identity.ts';
import { workerOptions } from './worker-options.ts';
import { createWorkerRuntime } from './worker-runtime.ts';

const PROGRAM = 'chunkmesh-worker';
const cfg = loadConfig(workerOptions, {
  program: PROGRAM,
  summary: 'Serves a Llama-family model with a prefix-tree KV cache over gRPC and reports the tree to Redis.',
});
if (!cfg.model) {
  process.stderr.write(`${PROGRAM}: --model DIR is required (see --help)\n`);
  process.exit(2);
}

const log = createLogger({ service: 'worker' });
// Before the model loads: a refused configuration fails in a second, not after minutes of loading.
const { clusterTls, redisTls } = configOrExit(PROGRAM, () => {
  const clusterTls = clusterTlsOf(cfg, log);
  const risk = 'anyone who reaches the gRPC port can run requests on this worker and read their prompts';
  enforceMode(cfg.mode, [clusterTlsProtection(clusterTls, risk)], log);
  return { clusterTls, redisTls: cfg.redisUrl ? redisTlsOf(cfg, cfg.redisUrl, log) : undefined };
});
const epoch = newEpoch();
const registry = createRegistry({ defaultLabels: { service: 'worker' } });
let reporter: KvReporter | undefined;

const started = Date.now();
const runtime = await createWorkerRuntime({
  modelDir: cfg.model,
  kvCapacityTokens: cfg.kvCapacityTokens,
  chunkTokens: cfg.chunkTokens,
  dtype: cfg.kvDtype,
  device: cfg.device,
  threads: cfg.threads,
  tiers: {
    hostBytes: cfg.kvHostBytes,
    ...(cfg.kvDiskDir !== undefined ? { diskDir: cfg.kvDiskDir, diskBytes: cfg.kvDiskBytes } : {}),
    ioThreads: cfg.kvIoThreads,
    lookAhead: cfg.kvLookahead,
    restore: cfg.kvRestore,
  },
  engine: {
    prefixSharing: cfg.prefixSharing,
    stepTokens: cfg.stepTokens,
    maxBatch: cfg.maxBatch,
    maxQueue: cfg.maxQueue,
    truncationReuseTokens: cfg.kvTruncationReuseTokens,
  },
  observer: (cache): EngineObserver => {
    const m = new WorkerMetrics(registry, cache);
    return {
      onAdmit: (p, c, byTier) => m.onAdmit(p, c, byTier),
      onRestore: (r) => m.onRestore(r),
      onTruncationReuse: (n) => m.onTruncationReuse(n),
      onFirstToken: (ms) => m.onFirstToken(ms),
      onToken: (ms) => m.onToken(ms),
      onFinish: (ms, reason) => m.onFinish(ms, reason),
      onStep: (b, ms, q) => m.onStep(b, ms, q),
      onPreempt: () => m.onPreempt(),
      onFork: (n) => m.onFork(n),
      onKvEvents: (events) => reporter?.publish(events),
    };
  },
}).catch((err: Error) => {
  // a model that does not load, or a device that cannot be had (--device cuda without a GPU): say so and stop
  log.error('cannot start', { error: err.message });
  process.exit(2);
});
const modelId = runtime.bundle.model.config.modelId;
const device = runtime.device;
if (device.fallbackReason)
  log.info('no CUDA device; computing on the CPU', { reason: device.fallbackReason });
const kv = runtime.cache.stats();
log.info('model loaded', {
  model: modelId,
  ms: Date.now() - started,
  kvChunks: runtime.cache.capacityChunks,
  device: `${device.name} (${device.detail})`,
  ...(kv.hostCapacityChunks > 0 ? { hostChunks: kv.hostCapacityChunks } : {}),
  ...(kv.diskCapacityChunks > 0
    ? {
        diskChunks: kv.diskCapacityChunks,
        diskReadMBps: Math.round(kv.diskReadBytesPerSecond / 1e6),
        diskWriteMBps: Math.round(kv.diskWriteBytesPerSecond / 1e6),
      }
    : {}),
});

// A disk tier whose writes fail (full, read-only, a file size limit) stops taking chunks; say so once.
if (kv.diskCapacityChunks > 0) {
  const diskWatch = setInterval(() => {
    const s = runtime.cache.stats();
    if (!s.diskFailed) return;
    log.error('KV disk tier failed: going on with the device and host tiers', { error: s.diskError });
    clearInterval(diskWatch);
  }, 1000);
  diskWatch.unref();
}

let workerId = cfg.workerId ?? '';
const grpcServer = await serveGeneration({
  host: cfg.host,
  port: cfg.port,
  ...(clusterTls ? { credentials: clusterServerCredentials(clusterTls) } : {}),
  handlers: (bound) => {
    workerId ||= `worker-${bound}`;
    return generationHandlers({
      runtime,
      workerId,
      epoch,
      limits: { defaultMaxTokens: cfg.defaultMaxTokens },
      log,
    });
  },
  control: () => ({
    ...controlHandlers({
      runtime,
      workerId,
      epoch,
      drain: async (graceMs) => {
        const load = runtime.engine.load();
        await shutdown('WorkerControl.Drain', graceMs);
        return { inFlight: load.queuedRequests + load.runningSequences };
      },
      log,
    }),
    ...migrationHandlers({ runtime, workerId, epoch, clusterTls, pullTimeoutMs: cfg.pullTimeoutMs, log }),
    ...residentHandlers({ cache: runtime.cache, reporter: () => reporter, workerId, epoch, log }),
    ...tierHandlers({ runtime, workerId, epoch, log }),
  }),
});

if (clusterTls) configOrExit(PROGRAM, () => checkOwnIdentity(clusterTls, workerId, log));
const { port, health } = grpcServer;
const redis = cfg.redisUrl
  ? connectRedis({
      url: cfg.redisUrl,
      name: `${workerId}/reporter`,
      commandTimeoutMs: cfg.redisTimeoutMs,
      log,
      ...(redisTls ? { tls: redisTls } : {}),
    })
  : undefined;
let ready = false;
const serving = () => ready && (!reporter || reporter.registered);
const ops = await serveOps({ registry, port: cfg.metricsPort, host: cfg.host, ready: serving });

if (redis) {
  reporter = new KvReporter({
    redis,
    cluster: cfg.cluster,
    workerId,
    endpoint: cfg.advertise ?? `127.0.0.1:${port}`,
    modelId,
    chunkTokens: runtime.cache.chunkTokens,
    kvDtype: runtime.cache.dtype,
    capacityChunks: runtime.cache.capacityChunks,
    epoch,
    heartbeatTtlMs: cfg.heartbeatTtlMs,
    heartbeatIntervalMs: Math.max(50, Math.floor(cfg.heartbeatTtlMs / 3)),
    onRegistered: () => health.setServing(serving()),
    log,
  });
  await reporter.start();
}
const loadTimer = setInterval(() => reporter?.setLoad(runtime.engine.load()), 200);

ready = true;
health.setServing(serving());
log.info('worker serving', { workerId, grpcPort: port, metricsPort: ops.port, epoch, redis: Boolean(redis) });
// One line for launchers (chunkmesh up) to read the chosen ports from.
process.stdout.write(
  `${JSON.stringify({ event: 'ready', workerId, grpcPort: port, metricsPort: ops.port })}\n`,
);

/** Resolves once the registry entry says draining; set by the first drain (signal or WorkerControl.Drain). */
let marked: Promise<void> | undefined;
/** After the engine has drained, how long the other gRPC calls get before they are cancelled. */
const CALLS_GRACE_MS = 1000;
/**
 * Drains: NOT_SERVING and the registry entry marked draining first (routers stop placing here),
 * then queued and running requests get graceMs to finish, then events are flushed, the worker
 * deregisters and exits. Resolves once the entry says draining; the rest follows.
 */
function shutdown(signal: string, graceMs = cfg.shutdownGraceMs): Promise<void> {
  if (marked) return marked;
  log.info('draining', { signal, graceMs });
  ready = false;
  health.setServing(false);
  marked = reporter?.markDraining() ?? Promise.resolve();
  void marked.then(async () => {
    await runtime.engine.shutdown(graceMs);
    clearInterval(loadTimer);
    await reporter?.stop();
    await redis?.quit().catch(() => undefined);
    // Generate calls have all ended with the engine; what may still be open is a health Watch (ended
    // by stop) or a unary call, each done in moments.
    await grpcServer.stop(CALLS_GRACE_MS);
    await ops.close();
    clusterTls?.close();
    redisTls?.close();
    log.info('stopped');
    process.exit(0);
  });
  return marked;
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
watchParent(() => void shutdown('parent exited'));
