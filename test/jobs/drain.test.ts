// worker.drain under a steady load, through the router's admin endpoints,
// with real processes (Redis, three workers, a router, the job runner): the
// drained worker's registry entry says draining, the router places nothing
// more there once it has read that, its in-flight requests finish, it
// deregisters and exits 0, and no request is lost (none fails before its
// first token, none is cut mid-stream).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterKeys, connectRedis, parseWorkerRecord } from '@chunkmesh/common';
import { newApiKey } from '@chunkmesh/router';
import {
  type JobRunnerProcess,
  LoadGenerator,
  type RouterProcess,
  scrapeMetrics,
  startJobRunner,
  summarize,
  waitFor,
} from '@chunkmesh/test-support';
import type { Redis } from 'ioredis';
import { CHUNK, MODEL, TestCluster } from '../router/cluster.ts';
import { bearer, writeKeyFile } from '../security/secure-client.ts';

/** The router's poll of the registry (ClusterIndex pollIntervalMs) plus a margin. */
const ROUTER_SEES_MS = 1500;

async function admin(router: RouterProcess, method: string, path: string, body?: unknown, key?: string) {
  const res = await fetch(`${router.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? bearer(key) : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('worker.drain', { timeout: 180_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;
  let runner: JobRunnerProcess;
  let redis: Redis;
  // stopped by the test, or by after() when the test fails first (a running load keeps the file alive)
  let load: LoadGenerator | undefined;

  before(async () => {
    c = await TestCluster.start({ workers: 3, workerIds: ['d0', 'd1', 'd2'], name: 'drain-job' });
    router = await c.startRouter();
    runner = c.track(await startJobRunner({ redisUrl: c.redis.url, cluster: c.cluster }));
    redis = connectRedis({ url: c.redis.url, name: 'test/drain' });
  });
  after(async () => {
    await load?.stop();
    redis?.disconnect();
    await c?.stop();
  });

  test('admin endpoints check the request and name the job', async () => {
    const unknown = await admin(router, 'POST', '/admin/v1/jobs/kv.nope', {});
    assert.equal(unknown.status, 404);
    const bad = await admin(router, 'POST', '/admin/v1/jobs/worker.drain', { workerId: 'nobody' });
    assert.equal(bad.status, 400);
    assert.match(String((bad.json.error as { message: string }).message), /nobody is not live/);
    const migrate = await admin(router, 'POST', '/admin/v1/jobs/kv.migrate', {
      prompt: { text: 'Once upon a time' },
      source: 'd0',
      target: 'nobody',
    });
    assert.equal(migrate.status, 400);
    assert.match(
      String((migrate.json.error as { message: string }).message),
      /target worker nobody is not live/,
    );
    const missing = await admin(router, 'GET', '/admin/v1/jobs/prefix.prewarm-0');
    assert.equal(missing.status, 404);
  });

  test('with API keys, only an admin key reaches them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobs-keys-'));
    try {
      const normal = newApiKey();
      const ops = newApiKey();
      const keyFile = writeKeyFile(dir, { [normal]: 'tenant=acme', [ops]: 'tenant=ops role=admin' });
      const keyed = await c.startRouter(['--api-keys-file', keyFile]);
      assert.equal((await admin(keyed, 'GET', '/admin/v1/jobs')).status, 401);
      const refused = await admin(keyed, 'POST', '/admin/v1/jobs/worker.drain', { workerId: 'd0' }, normal);
      assert.equal(refused.status, 403);
      assert.equal(
        (await admin(keyed, 'GET', `/admin/v1/jobs`, undefined, ops)).status,
        200,
        'an admin key lists the jobs',
      );
      await keyed.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('under steady load: no request lost, no placement on the worker once the router sees it draining', async () => {
    load = new LoadGenerator({
      routers: () => [router.baseUrl],
      model: MODEL,
      concurrency: 4,
      seed: 77,
      families: 6,
      prefixTokens: 3 * CHUNK,
      suffixTokens: 8,
      maxTokens: 12,
      vocab: 512,
      thinkMs: 10,
    });
    load.start();
    await sleep(3000);
    const target = c.worker('d1');

    const added = await admin(router, 'POST', '/admin/v1/jobs/worker.drain', {
      workerId: 'd1',
      graceMs: 20_000,
    });
    assert.equal(added.status, 201, JSON.stringify(added.json));
    const id = String(added.json.id);
    assert.doesNotMatch(id, /:/);
    // the same request for the same worker is the same job
    const again = await admin(router, 'POST', '/admin/v1/jobs/worker.drain', {
      workerId: 'd1',
      graceMs: 20_000,
    });
    assert.equal(again.status, 200);
    assert.equal(again.json.id, id);

    // the drain starts: the worker's own heartbeat marks its entry draining. With short requests in
    // flight the whole drain can take under 100 ms, between two polls: the entry then says draining
    // and is gone (deregistered) by the next read, so either counts as started (both seen in CI).
    await waitFor(
      'the registry entry to say draining, or to be gone after the drain',
      async () => {
        const entry = await redis.hgetall(clusterKeys(c.cluster).worker('d1'));
        return Object.keys(entry).length === 0 || parseWorkerRecord('d1', entry)?.draining === true;
      },
      30_000,
    );
    await sleep(ROUTER_SEES_MS);
    const retriesThen = (await scrapeMetrics(router.metricsUrl)).value('chunkmesh_router_retries_total', {
      code: 'UNAVAILABLE',
    });

    let job: Record<string, unknown> = {};
    await waitFor(
      'the drain job to complete',
      async () => {
        job = (await admin(router, 'GET', `/admin/v1/jobs/${id}`)).json;
        return job.state === 'completed' || job.state === 'failed';
      },
      60_000,
    );
    assert.equal(job.state, 'completed', JSON.stringify(job));
    assert.deepEqual((job.result as { workerId: string; deregistered: boolean }).deregistered, true);
    const exit = await target.waitExit(30_000);
    assert.equal(exit.code, 0, target.describe());
    assert.equal(await redis.exists(clusterKeys(c.cluster).worker('d1')), 0, 'deregistered');

    await sleep(2000);
    const records = await load.stop();
    load = undefined;
    const s = summarize(records);
    assert.ok(records.length > 20, `a steady load ran (${records.length} requests)`);
    const failed = records.filter((r) => r.outcome !== 'ok');
    assert.deepEqual(failed, [], `no request lost: ${JSON.stringify(s)}`);
    // A request placed on d1 after the router read the draining entry would have been refused
    // there and retried (UNAVAILABLE): none was.
    const retriesNow = (await scrapeMetrics(router.metricsUrl)).value('chunkmesh_router_retries_total', {
      code: 'UNAVAILABLE',
    });
    assert.equal(retriesNow, retriesThen, 'no placement on the draining worker');
    assert.equal(
      (await scrapeMetrics(router.metricsUrl)).value('chunkmesh_router_live_workers'),
      2,
      'the router places on the two others',
    );

    const list = await admin(router, 'GET', '/admin/v1/jobs?limit=5');
    assert.ok((list.json.data as { id: string }[]).some((j) => j.id === id));
    const metrics = await (await fetch(runner.metricsUrl)).text();
    assert.match(
      metrics,
      /chunkmesh_job_duration_seconds_count\{[^}]*name="worker\.drain"[^}]*outcome="completed"/,
    );
  });
});
