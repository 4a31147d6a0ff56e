// kv.spill / kv.restore end to end, with real processes: Redis, a worker with
// a host tier, a worker without one, the job runner. A spill moves a cached
// prompt's chunks to the host tier and the worker's report (what routers
// read) says so; a restore brings them back to the device, and a request for
// the prompt then finds all its cached tokens on the device. A worker without
// a host tier fails the job at once, saying why.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectRedis, createGenerationClient } from '@chunkmesh/common';
import { JobClient, reportedTiers, type TierMoveResult } from '@chunkmesh/jobs';
import {
  generate,
  type JobRunnerProcess,
  jobsCli,
  RedisServer,
  scrapeMetrics,
  startJobRunner,
  startWorker,
  tokenRun,
  uniqueCluster,
  type WorkerProcess,
} from '@chunkmesh/test-support';
import type { Redis } from 'ioredis';
import { finished } from './jobs-support.ts';

const CHUNK = 16;
const IDS = tokenRun(0, 5 * CHUNK + 3);

/** How many of the worker's reported keys are in each tier. */
async function reportedCounts(redis: Redis, cluster: string, workerId: string, epoch: string) {
  const counts = { device: 0, host: 0, disk: 0 };
  for (const t of (await reportedTiers(redis, cluster, workerId, epoch))?.values() ?? []) counts[t]++;
  return counts;
}

async function deviceHits(worker: WorkerProcess): Promise<number> {
  return (await scrapeMetrics(worker.metricsUrl)).value('chunkmesh_prefix_cache_hit_tokens_by_tier_total', {
    tier: 'device',
  });
}

describe('kv.spill / kv.restore', { timeout: 180_000 }, () => {
  let redis: RedisServer;
  let registry: Redis;
  let jobs: JobClient;
  let runner: JobRunnerProcess;
  let tiered: WorkerProcess;
  let flat: WorkerProcess;
  const cluster = uniqueCluster('tiers');

  before(async () => {
    redis = await RedisServer.start();
    const worker = (id: string, args: string[]) =>
      startWorker({
        redisUrl: redis.url,
        cluster,
        chunkTokens: CHUNK,
        args: ['--worker-id', id, ...args],
      });
    [tiered, flat] = await Promise.all([
      worker('w0', ['--kv-host-bytes', String(1 << 24)]),
      worker('w1', []),
    ]);
    runner = await startJobRunner({
      redisUrl: redis.url,
      cluster,
      args: ['--reconcile-every-ms', '0'],
    });
    registry = connectRedis({ url: redis.url, name: 'test/tiers' });
    jobs = new JobClient({ redis: { url: redis.url }, registry, cluster });
  });
  after(async () => {
    await jobs?.close();
    registry?.disconnect();
    await Promise.all([runner, tiered, flat].map((p) => p?.kill()));
    await redis?.stop();
  });

  test('spill moves the prompt to the host, restore back to the device', async () => {
    const client = createGenerationClient(tiered.address);
    try {
      await generate(client, { tokenIds: { ids: IDS }, tenant: 'acme', sampling: { maxTokens: 1 } });
      const prompt = { tokenIds: IDS };

      // each move, then the report routers read: all five chunks in the tier asked for, none elsewhere
      const moves = [
        ['kv.spill', 'host', { device: 0, host: 5, disk: 0 }],
        ['kv.restore', 'device', { device: 5, host: 0, disk: 0 }],
      ] as const;
      for (const [name, tier, counts] of moves) {
        const done = await finished(
          jobs,
          (await jobs.add(name, { workerId: 'w0', tenant: 'acme', prompt })).job.id,
        );
        assert.equal(done.state, 'completed', JSON.stringify(done));
        const m = done.result as TierMoveResult;
        assert.deepEqual(
          [m.tier, m.matchedTokens, m.movedTokens, m.stayedTokens, m.chunks],
          [tier, 5 * CHUNK, 5 * CHUNK, 0, 5],
        );
        assert.deepEqual(await reportedCounts(registry, cluster, 'w0', m.epoch), counts);
      }

      // a request now finds every full chunk cached, all of it on the device
      const before = await deviceHits(tiered);
      const c = await generate(client, {
        tokenIds: { ids: IDS },
        tenant: 'acme',
        sampling: { maxTokens: 1 },
      });
      assert.equal(c.final.usage?.cachedPromptTokens, 5 * CHUNK);
      assert.equal((await deviceHits(tiered)) - before, 5 * CHUNK);

      // asking again after it finished runs again (and finds nothing left to move)
      const again = await jobs.add('kv.restore', { workerId: 'w0', tenant: 'acme', prompt });
      assert.equal(again.added, true);
      const second = (await finished(jobs, again.job.id)).result as TierMoveResult;
      assert.equal(second.movedTokens, 0);
      assert.equal(second.chunks, 5);
    } finally {
      client.close();
    }
  });

  test('a worker without a host tier fails the job at once: no host tier', async () => {
    const added = await jobs.add('kv.spill', { workerId: 'w1', prompt: { tokenIds: IDS } });
    const done = await finished(jobs, added.job.id);
    assert.equal(done.state, 'failed');
    assert.equal(done.attemptsMade, 1, 'not retried');
    assert.match(done.failedReason ?? '', /unsupported: worker w1: no host tier/);
    // the same from the command line: exit 1, the reason shown
    const where = ['--redis-url', redis.url, '--cluster', cluster];
    const r = await jobsCli('restore', ...where, '--worker-id', 'w1', '--token-ids', IDS.join(','), '--wait');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /"state": "failed"/);
    assert.match(r.stdout, /no host tier/);
  });
});
