// SIGTERM drains the worker process: it turns NOT_SERVING and refuses new
// work, lets in-flight streams finish within the grace period or cancels
// them, ends every stream with a final message, removes itself from the Redis
// registry, and exits 0. Killed outright, its registry entry ages out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  clusterKeys,
  createGenerationClient,
  type GenerateResponse,
  type GenerationClient,
  pruneWorker,
} from '@chunkmesh/common';
import {
  type Completion,
  collect,
  healthCheck,
  RedisServer,
  readWorkerView,
  startWorker,
  uniqueCluster,
  type WorkerProcess,
} from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';

const BOS = 1;

describe('worker process: SIGTERM', () => {
  let redis: RedisServer | undefined;
  let reader: Redis | undefined;
  const workers: WorkerProcess[] = [];
  const clients: GenerationClient[] = [];
  const cluster = uniqueCluster('worker-shutdown');

  before(async () => {
    redis = await RedisServer.start();
    reader = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const w of workers) await w.kill();
    reader?.disconnect();
    await redis?.stop();
  });

  async function start(graceMs: number): Promise<{ worker: WorkerProcess; client: GenerationClient }> {
    const worker = await startWorker({
      redisUrl: (redis as RedisServer).url,
      cluster,
      args: ['--shutdown-grace-ms', String(graceMs)],
    });
    workers.push(worker);
    const client = createGenerationClient(worker.address);
    clients.push(client);
    // registered (and so something to deregister)
    const deadline = Date.now() + 5000;
    while (!(await readWorkerView(reader as Redis, cluster, worker.workerId)).record) {
      assert.ok(Date.now() < deadline, `never registered\n${worker.describe()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { worker, client };
  }

  /** Long generations (the model's whole context, EOS ignored); resolves once each has streamed a token. */
  async function inFlight(client: GenerationClient, n: number) {
    let streaming = 0;
    let allStreaming!: () => void;
    const started = new Promise<void>((resolve) => {
      allStreaming = resolve;
    });
    const done = Array.from({ length: n }, (_, i) => {
      let first = true;
      return collect(
        client.generate({ tokenIds: { ids: [BOS, 100 + i] }, sampling: { maxTokens: 510, ignoreEos: true } }),
        (m: GenerateResponse) => {
          if (m.kind === 'delta' && first) {
            first = false;
            if (++streaming === n) allStreaming();
          }
        },
      );
    });
    let finished = 0;
    for (const d of done)
      void d.then(
        () => finished++,
        () => finished++,
      );
    await Promise.race([started, Promise.all(done)]);
    return { done: Promise.all(done), finished: () => finished };
  }

  async function assertDeregistered(worker: WorkerProcess): Promise<void> {
    const view = await readWorkerView(reader as Redis, cluster, worker.workerId);
    assert.equal(view.record, null, 'registry entry removed');
    assert.equal(view.inWorkersSet, false, 'removed from the workers set');
    assert.equal(view.snapshot, null, 'snapshot removed');
  }

  it('with a short grace period: in-flight streams end with CANCELLED, the process exits 0 and deregisters', async () => {
    const { worker, client } = await start(50);
    const flight = await inFlight(client, 2);
    assert.equal(flight.finished(), 0, 'generations still running when SIGTERM is sent');
    const t0 = Date.now();
    worker.signal('SIGTERM');
    const results: Completion[] = await flight.done;
    for (const r of results) {
      assert.equal(r.final.finishReason, 'FINISH_REASON_CANCELLED', JSON.stringify(r.final));
      assert.equal(r.afterFinal, 0);
      assert.ok(r.ids.length > 0 && r.ids.length < 510, `${r.ids.length} tokens`);
      assert.equal(r.final.usage?.completionTokens, r.ids.length);
      assert.equal(r.final.workerId, worker.workerId);
    }
    const exit = await worker.waitExit(10_000);
    assert.deepEqual(exit, { code: 0, signal: null }, worker.describe());
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms to exit`);
    assert.match(worker.stderr, /"msg":"stopped"/);
    await assertDeregistered(worker);
  });

  it('with a long grace period: NOT_SERVING and refusing new work while in-flight streams finish, then exits 0', async () => {
    const { worker, client } = await start(10_000);
    const flight = await inFlight(client, 8);
    worker.signal('SIGTERM');
    // the signal is handled asynchronously: wait for the health switch
    let status = '';
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      status = await healthCheck(worker.address).catch((err: grpc.ServiceError) => `error ${err.code}`);
      if (status !== 'SERVING') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(status, 'NOT_SERVING');
    // a new request while draining is refused at once, before any token
    const refused = await collect(
      client.generate({ tokenIds: { ids: [BOS] }, sampling: { maxTokens: 5 } }),
    ).then(
      () => null,
      (err: grpc.ServiceError) => err,
    );
    assert.equal(flight.finished(), 0, 'the drain lasted past these checks (else they prove nothing)');
    assert.ok(refused, 'a request during the drain is refused');
    assert.equal(grpc.status[refused.code], 'UNAVAILABLE');
    assert.match(refused.details, /shutting down/);

    // every in-flight stream finishes within the grace period, in full
    const results = await flight.done;
    for (const r of results) {
      assert.equal(r.final.finishReason, 'FINISH_REASON_LENGTH', JSON.stringify(r.final));
      assert.equal(r.ids.length, 510);
      assert.equal(r.afterFinal, 0);
    }
    const exit = await worker.waitExit(10_000);
    assert.deepEqual(exit, { code: 0, signal: null }, worker.describe());
    await assertDeregistered(worker);
  });

  it('when idle, exits 0 at once and deregisters', async () => {
    const { worker } = await start(10_000);
    const t0 = Date.now();
    const exit = await worker.stop(5000);
    assert.deepEqual(exit, { code: 0, signal: null }, worker.describe());
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    await assertDeregistered(worker);
  });

  it('SIGKILLed instead, its registry entry expires within the heartbeat TTL (1 s); a reader prunes the rest', async () => {
    const { worker } = await start(10_000);
    await worker.kill();
    const killedAt = Date.now();
    let view = await readWorkerView(reader as Redis, cluster, worker.workerId);
    while (view.record && Date.now() - killedAt < 5000) {
      await new Promise((r) => setTimeout(r, 50));
      view = await readWorkerView(reader as Redis, cluster, worker.workerId);
    }
    assert.equal(view.record, null, 'registry entry expired');
    assert.ok(Date.now() - killedAt < 2000, `expired after ${Date.now() - killedAt} ms`);
    // no one deregistered it: the set entry and snapshot stay until a reader prunes them
    assert.equal(view.inWorkersSet, true);
    assert.notEqual(view.snapshot, null);
    assert.equal(await pruneWorker(reader as Redis, clusterKeys(cluster), worker.workerId), true);
    await assertDeregistered(worker);
  });
});
