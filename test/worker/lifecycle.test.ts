// The worker process at its edges, with real processes and a real Redis: its
// metrics listen where --host says; an open health Watch stream does not hold
// it past its shutdown grace period (it is told NOT_SERVING, then ended); a
// hung Redis does not hold its shutdown either (every Redis command has a
// timeout); and two live processes started with one worker id are detected:
// the second does not register, report or become ready until the first's
// entry lapses, and never deregisters an entry that is not its own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGenerationClient } from '@chunkmesh/common';
import {
  healthCheck,
  healthWatch,
  info,
  RedisServer,
  readWorkerView,
  startWorker,
  tcpConnects,
  uniqueCluster,
  type WorkerProcess,
  waitFor,
} from '@chunkmesh/test-support';
import { Redis } from 'ioredis';

async function epochOf(worker: WorkerProcess): Promise<string> {
  const client = createGenerationClient(worker.address);
  try {
    return (await info(client)).epoch;
  } finally {
    client.close();
  }
}

describe('worker process: edges of its life', () => {
  let redis: RedisServer;
  let reader: Redis;
  const workers: WorkerProcess[] = [];
  const skip = process.env.REDIS_URL ? 'REDIS_URL is set: needs a private redis-server to freeze' : false;

  before(async () => {
    redis = await RedisServer.start();
    reader = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    reader?.disconnect();
    await Promise.all(workers.map((w) => w.kill()));
    await redis?.stop();
  });

  async function start(args: string[], withRedis: string | null = null): Promise<WorkerProcess> {
    const w = await startWorker({
      ...(withRedis ? { redisUrl: redis.url, cluster: withRedis } : {}),
      args,
    });
    workers.push(w);
    return w;
  }

  it('serves its metrics on --host, like its gRPC port', async () => {
    // 127.0.0.2 is loopback too, but a server bound to it is not reachable as 127.0.0.1.
    const w = await start(['--host', '127.0.0.2', '--advertise', '127.0.0.2:1']);
    assert.equal((await fetch(`http://127.0.0.2:${w.metricsPort}/healthz`)).status, 200);
    assert.equal(await tcpConnects('127.0.0.2', w.grpcPort), true);
    assert.equal(await tcpConnects('127.0.0.1', w.grpcPort), false, 'gRPC is bound to --host');
    assert.equal(await tcpConnects('127.0.0.1', w.metricsPort), false, 'metrics are bound to --host');
    await w.kill();
  });

  it('an open health Watch stream is told NOT_SERVING and ended; it does not hold SIGTERM', async () => {
    const w = await start(['--shutdown-grace-ms', '200']);
    const watch = healthWatch(w.address);
    await waitFor('the watch to report SERVING', () => watch.statuses.includes('SERVING'));
    const t0 = Date.now();
    w.signal('SIGTERM');
    const exit = await w.waitExit(8_000);
    assert.deepEqual(exit, { code: 0, signal: null }, w.describe());
    assert.ok(Date.now() - t0 < 5000, `exited ${Date.now() - t0} ms after SIGTERM`);
    assert.equal(await watch.ended, null, 'the server ended the stream with OK');
    assert.equal(watch.statuses.at(-1), 'NOT_SERVING');
  });

  it('a hung Redis does not hold SIGTERM: its commands time out', { skip }, async () => {
    const cluster = uniqueCluster('hung-redis');
    const w = await start(['--shutdown-grace-ms', '200', '--redis-timeout-ms', '500'], cluster);
    await waitFor('registered', async () => (await healthCheck(w.address)) === 'SERVING');
    redis.freeze(true);
    try {
      const t0 = Date.now();
      w.signal('SIGTERM');
      const exit = await w.waitExit(15_000);
      assert.deepEqual(exit, { code: 0, signal: null }, w.describe());
      assert.ok(Date.now() - t0 < 8000, `exited ${Date.now() - t0} ms after SIGTERM`);
    } finally {
      redis.freeze(false);
    }
  });

  it('two live processes with one worker id: the second is refused until the first is gone', async () => {
    const cluster = uniqueCluster('dup-id');
    const id = ['--worker-id', 'dup'];
    const a = await start(id, cluster);
    await waitFor('a registered', async () => (await healthCheck(a.address)) === 'SERVING');
    const epochA = await epochOf(a);
    const b = await start(id, cluster);
    const epochB = await epochOf(b);
    await waitFor('b to say why it does not register', () =>
      /another live process holds this worker id/.test(b.stderr),
    );
    // Several heartbeats of both (TTL 1 s: every 333 ms): the entry stays a's, b writes nothing.
    for (let i = 0; i < 6; i++) {
      const view = await readWorkerView(reader, cluster, 'dup');
      assert.equal(view.record?.epoch, epochA, 'the registry entry is the first process’s');
      assert.ok(
        view.events.every((e) => e.event.epoch === epochA),
        'no event under the second process’s epoch',
      );
      assert.equal(await healthCheck(b.address), 'NOT_SERVING', 'the second is not ready');
      assert.equal((await fetch(`http://127.0.0.1:${b.metricsPort}/healthz`)).status, 503);
      await sleep(250);
    }
    // The first dies without deregistering: once its entry lapses the second takes the id.
    a.signal('SIGKILL');
    await waitFor('b to register', async () => (await healthCheck(b.address)) === 'SERVING', 10_000);
    assert.equal((await readWorkerView(reader, cluster, 'dup')).record?.epoch, epochB);
    // A third, refused, stops: it must not deregister b.
    const c = await start(id, cluster);
    await waitFor('c to be refused', () => /another live process holds this worker id/.test(c.stderr));
    c.signal('SIGTERM');
    assert.equal((await c.waitExit(10_000))?.code, 0, c.describe());
    const view = await readWorkerView(reader, cluster, 'dup');
    assert.equal(view.record?.epoch, epochB, 'b is still registered');
    assert.ok(view.inWorkersSet);
  });
});
