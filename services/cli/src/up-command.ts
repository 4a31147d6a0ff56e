// chunkmesh up: a local cluster (Redis, N workers, one router) in one
// command, until Ctrl-C or SIGTERM, which stops everything cleanly.
import { defineOptions } from '@chunkmesh/common';
import { defaultModelDir } from './cluster/default-model.ts';
import { LocalCluster } from './cluster/local-cluster.ts';
import { parseCommand } from './command-options.ts';

export const clusterOptions = defineOptions({
  workers: { type: 'integer', default: 2, min: 1, help: 'worker processes' },
  model: {
    type: 'string',
    help: 'model directory (default: the built-in tiny model, generated on first use)',
  },
  chunkTokens: { type: 'integer', default: 64, min: 1, help: 'tokens per KV chunk' },
  kvCapacityTokens: { type: 'integer', default: 65_536, min: 1, help: 'KV pool per worker, in tokens' },
  policy: {
    type: 'string',
    default: 'prefix-aware',
    choices: ['prefix-aware', 'round-robin', 'least-loaded', 'consistent-hash'],
    help: 'router placement policy',
  },
  grpcPort: { type: 'integer', default: 50051, min: 0, help: 'router gRPC port' },
  httpPort: { type: 'integer', default: 8080, min: 0, help: 'router HTTP port (OpenAI API)' },
  opsPort: { type: 'integer', default: 9462, min: 0, help: 'router ops port (/metrics, /healthz, /readyz)' },
  workerThreads: { type: 'integer', default: 1, min: 1, help: 'compute threads per worker' },
  cluster: { type: 'string', default: 'local', help: 'Redis namespace' },
});

export async function upCommand(argv: string[]): Promise<number> {
  const cfg = parseCommand(
    clusterOptions,
    {
      program: 'chunkmesh up',
      summary:
        'Starts a local chunkmesh cluster: Redis (REDIS_URL if set, else a private redis-server), N workers and a router, ' +
        'as separate processes. Ctrl-C stops everything.',
    },
    argv,
  );
  if (!cfg) return 0;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const modelDir = cfg.model ?? (await defaultModelDir(log));
  const cluster = await LocalCluster.start({
    workers: cfg.workers,
    modelDir,
    cluster: cfg.cluster,
    chunkTokens: cfg.chunkTokens,
    kvCapacityTokens: cfg.kvCapacityTokens,
    policy: cfg.policy,
    routerGrpcPort: cfg.grpcPort,
    routerHttpPort: cfg.httpPort,
    routerOpsPort: cfg.opsPort,
    workerThreads: cfg.workerThreads,
    log,
  });
  const lines = [
    '',
    'chunkmesh is up',
    `  OpenAI HTTP   ${cluster.httpUrl}/v1  (models: ${cluster.httpUrl}/v1/models)`,
    `  gRPC          127.0.0.1:${cluster.routerGrpcPort}  (chunkmesh.v1.Generation)`,
    `  metrics       ${cluster.opsUrl}/metrics  (also /healthz, /readyz)`,
    ...cluster.workers.map(
      (w) =>
        `  ${w.workerId.padEnd(12)}  gRPC 127.0.0.1:${w.grpcPort}  metrics http://127.0.0.1:${w.metricsPort}/metrics`,
    ),
    `  Redis         ${cluster.redis.url}`,
    `  job runner    metrics http://127.0.0.1:${cluster.runnerOpsPort}/metrics  (chunkmesh jobs --help)`,
    '',
    `try: curl -s ${cluster.httpUrl}/v1/completions -H 'content-type: application/json' -d '{"model": "<id from /v1/models>", "prompt": "Hello", "max_tokens": 16}'`,
    'Ctrl-C stops the cluster.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', httpPort: cluster.routerHttpPort, grpcPort: cluster.routerGrpcPort, opsPort: cluster.routerOpsPort })}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log('stopping the cluster ...');
  await cluster.stop();
  log('stopped');
  return 0;
}
