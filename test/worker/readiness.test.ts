// A reporting worker turns ready (gRPC health SERVING, /healthz 200) only once it has reached
// Redis: routers find workers through Redis alone, so before that it serves nobody. A later Redis
// outage leaves it ready: routers keep placing on it from their index (redis-report.test.ts).
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
const skip = process.env.REDIS_URL ? 'REDIS_URL is set: needs a private redis-server to stop' : false;

before(async () => {
  if (skip) return;
  redis = await RedisServer.start();
  await redis.kill();
  worker = await startWorker({
    redisUrl: redis.url,
    cluster: uniqueCluster('readiness'),
  });
});
after(async () => {
  await worker?.stop().catch(() => worker.kill());
  await redis?.stop();
});

const healthz = async () => (await fetch(`http://127.0.0.1:${worker.metricsPort}/healthz`)).status;

test('not ready before Redis is reached, ready once it is, and through a later outage', {
  skip,
}, async () => {
  assert.equal(await healthCheck(worker.address), 'NOT_SERVING');
  assert.equal(await healthz(), 503);
  await redis.restart();
  await waitFor(
    'SERVING once Redis is reached',
    async () => (await healthCheck(worker.address)) === 'SERVING',
    15_000,
  );
  assert.equal(await healthz(), 200);
  await redis.kill();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await healthCheck(worker.address), 'SERVING');
});
