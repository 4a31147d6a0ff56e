// The worker as a child process for integration tests, on free ports (gRPC and
// metrics), from its sources, built on the ServiceProcess of `chunkmesh up`:
// spawn `node <tsx and source flags> <entry> ...args`, wait for the one JSON line
// {"event":"ready",...} it prints on stdout when serving, keep the tail of its
// stderr for failure messages, stop it with SIGTERM (awaiting its exit code)
// and, whatever happens, kill it before the test process exits.
//
//   const worker = await startWorker({ redisUrl: redis.url, cluster: 'c1' });
//   after(() => worker.kill());
//   ... worker.address, worker.workerId ...
//   assert.equal((await worker.stop()).code, 0);

import { ServiceProcess, WORKER_MAIN } from '@chunkmesh/cli';
import { STORIES_DIR } from './stories260k.ts';

export interface WorkerProcessOptions {
  /** Model directory; default the vendored stories260K. */
  model?: string;
  /** Redis to report to; unset: the worker serves without reporting. */
  redisUrl?: string;
  cluster?: string;
  /** Default 16, to match the tests' chunk keys. */
  chunkTokens?: number;
  /** Default 1000 ms: a dead worker ages out of the registry quickly. */
  heartbeatTtlMs?: number;
  /** More flags, appended after the defaults (a later flag wins where the parser allows). */
  args?: readonly string[];
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
}

export type WorkerProcess = ServiceProcess & {
  readonly workerId: string;
  readonly grpcPort: number;
  readonly metricsPort: number;
  /** host:port for createGenerationClient. */
  readonly address: string;
  readonly metricsUrl: string;
};

/** Starts the worker (WORKER_MAIN: its sources, in tests) on free ports (gRPC and metrics) and waits until it serves. */
export async function startWorker(o: WorkerProcessOptions = {}): Promise<WorkerProcess> {
  const args = [
    '--model',
    o.model ?? STORIES_DIR,
    '--port',
    '0',
    '--metrics-port',
    '0',
    '--chunk-tokens',
    String(o.chunkTokens ?? 16),
    '--heartbeat-ttl-ms',
    String(o.heartbeatTtlMs ?? 1000),
    ...(o.redisUrl ? ['--redis-url', o.redisUrl] : []),
    ...(o.cluster ? ['--cluster', o.cluster] : []),
    ...(o.args ?? []),
  ];
  const { proc, ready } = await ServiceProcess.start({
    entry: WORKER_MAIN,
    args,
    // Two threads: test machines are small and shared; the tests measure behaviour, not speed.
    env: { CHUNKMESH_THREADS: '2', ...o.env },
    name: 'worker',
    ...(o.readyTimeoutMs !== undefined ? { readyTimeoutMs: o.readyTimeoutMs } : {}),
  });
  const { workerId, grpcPort, metricsPort } = ready;
  if (typeof workerId !== 'string' || typeof grpcPort !== 'number' || typeof metricsPort !== 'number') {
    await proc.kill();
    throw new Error(`worker's ready line lacks workerId/grpcPort/metricsPort: ${JSON.stringify(ready)}`);
  }
  return Object.assign(proc, {
    workerId,
    grpcPort,
    metricsPort,
    address: `127.0.0.1:${grpcPort}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
  });
}

/** A cluster name no other test (or earlier run against a shared Redis) uses. */
export function uniqueCluster(prefix = 'test'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
