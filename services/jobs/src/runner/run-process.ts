// The job runner as a process (`chunkmesh jobs run`, or the package's main):
// flags and environment, the runner, /metrics and /healthz on its ops port, a
// ready line for launchers, and a bounded graceful shutdown on SIGTERM/SIGINT
// (or when the launching process goes away).
import {
  clusterTlsOf,
  clusterTlsProtection,
  configOrExit,
  connectRedis,
  createLogger,
  createRegistry,
  enforceMode,
  parseConfig,
  redisTlsOf,
  serveOps,
  watchParent,
} from '@chunkmesh/common';
import { JobRunner } from './job-runner.ts';
import { runnerOptions } from './runner-options.ts';

export const RUNNER_PROGRAM = 'chunkmesh jobs run';
const SUMMARY =
  'The control plane\u2019s job runner: processes prefix.prewarm (with its prefix.prefill per worker), worker.drain, kv.migrate, kv.spill, kv.restore and index.reconcile jobs from the BullMQ queues in Redis (one queue per worker, one job at a time), acting on workers through WorkerControl.';

/** Runs until SIGTERM/SIGINT; resolves with the exit code (0: stopped cleanly, 2: bad flags). */
export async function runJobRunner(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = configOrExit(RUNNER_PROGRAM, () =>
    parseConfig(runnerOptions, { program: RUNNER_PROGRAM, summary: SUMMARY }, argv, env),
  );
  if ('help' in parsed) {
    process.stdout.write(parsed.help);
    return 0;
  }
  const cfg = parsed.config;
  const log = createLogger({ service: 'jobs' });
  const { clusterTls, redisTls } = configOrExit(RUNNER_PROGRAM, () => {
    const clusterTls = clusterTlsOf(cfg, log);
    enforceMode(
      cfg.mode,
      [clusterTlsProtection(clusterTls, 'the runner cannot reach workers that require mutual TLS')],
      log,
    );
    return { clusterTls, redisTls: redisTlsOf(cfg, cfg.redisUrl, log) };
  });
  const registryRedis = connectRedis({
    url: cfg.redisUrl,
    name: 'jobs/registry',
    commandTimeoutMs: cfg.redisTimeoutMs,
    log,
    ...(redisTls ? { tls: redisTls } : {}),
  });
  const metrics = createRegistry({ defaultLabels: { service: 'jobs' } });
  const runner = new JobRunner({
    redis: { url: cfg.redisUrl, ...(redisTls ? { tls: redisTls } : {}) },
    registryRedis,
    cluster: cfg.cluster,
    ...(clusterTls ? { clusterTls } : {}),
    controlConcurrency: cfg.controlConcurrency,
    syncIntervalMs: cfg.syncIntervalMs,
    prefillTimeoutMs: cfg.prefillTimeoutMs,
    migrateTimeoutMs: cfg.migrateTimeoutMs,
    controlTimeoutMs: cfg.controlTimeoutMs,
    reportTimeoutMs: cfg.reportTimeoutMs,
    drainTimeoutMs: cfg.drainTimeoutMs,
    reconcileEveryMs: cfg.reconcileEveryMs,
    reconcileSettleMs: cfg.reconcileSettleMs,
    metrics,
    log,
  });
  await runner.start();
  const ops = await serveOps({ registry: metrics, port: cfg.opsPort, host: cfg.host });
  log.info('job runner serving', { cluster: cfg.cluster, opsPort: ops.port, queues: runner.queues().length });
  process.stdout.write(`${JSON.stringify({ event: 'ready', opsPort: ops.port })}\n`);

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    watchParent(() => resolve('parent exited'), env);
  });
  log.info('stopping', { signal, graceMs: cfg.shutdownGraceMs });
  await runner.close(cfg.shutdownGraceMs);
  await ops.close();
  await registryRedis.quit().catch(() => undefined);
  clusterTls?.close();
  redisTls?.close();
  log.info('stopped');
  return 0;
}
