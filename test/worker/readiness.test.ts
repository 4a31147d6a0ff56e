// A reporting worker is ready (gRPC health SERVING, /healthz 200) only while Redis is up: routers
// find workers through Redis alone, so one that cannot register serves nobody. It keeps running
// and comes back when Redis does (the chart's liveness probe is a TCP check for this reason).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  healthCheck,
  RedisServer,
  startWorker,
  uniqueCluster,
  type WorkerProcess,
  waitFor,
} from '@chunkmesh/test-support';

let redis: RedisServer;
let worker: WorkerProcess;

before(async () => {
  redis = await RedisServer.start();
  worker = await startWorker({
    redisUrl: redis.url,
    cluster: uniqueCluster('readiness'),
    env: { CHUNKMESH_PARENT_PID: String(process.pid) },
  });
});
after(async () => {
  await worker?.stop().catch(() => worker.kill());
  await redis?.stop();
});

const healthz = async () => (await fetch(`http://127.0.0.1:${worker.metricsPort}/healthz`)).status;

test('ready with Redis, not ready without it, ready again when it returns', {
  skip: process.env.REDIS_URL ? 'REDIS_URL is set: needs a private redis-server to stop' : false,
}, async () => {
  await waitFor('SERVING once registered', async () => (await healthCheck(worker.address)) === 'SERVING');
  assert.equal(await healthz(), 200);
  await redis.kill();
  await waitFor(
    'NOT_SERVING while Redis is down',
    async () => (await healthCheck(worker.address)) === 'NOT_SERVING',
  );
  assert.equal(await healthz(), 503);
  await redis.restart();
  await waitFor(
    'SERVING once Redis is back',
    async () => (await healthCheck(worker.address)) === 'SERVING',
    15_000,
  );
  assert.equal(await healthz(), 200);
});
