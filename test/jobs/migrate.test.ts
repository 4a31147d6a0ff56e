// kv.migrate end to end, with real processes: Redis, three workers, the job
// runner. A migration copies a prompt's cached chunks from one worker to
// another over gRPC (the target's PullPrefix streams the source's
// ExportPrefix): the target then serves the prompt with those chunks cached
// and answers it, greedily, exactly as the source does. A source killed while
// its chunks are on the wire (a TCP relay in front of it passes the stream's
// first bytes, then holds the rest while the test kills it) leaves the target
// with nothing of the prompt, and the job fails cleanly; asked again once a
// source is back, the same request runs again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectRedis } from '@chunkmesh/common';
import { JobClient, type MigrateResult } from '@chunkmesh/jobs';
import {
  completeOn,
  type JobRunnerProcess,
  jobsCli,
  RedisServer,
  scrapeMetrics,
  startJobRunner,
  startWorker,
  TcpRelay,
  tokenRun,
  uniqueCluster,
  type WorkerProcess,
} from '@chunkmesh/test-support';
import type { Redis } from 'ioredis';
import { finished } from './jobs-support.ts';

const CHUNK = 16;

describe('kv.migrate', { timeout: 240_000 }, () => {
  let redis: RedisServer;
  let registry: Redis;
  let jobs: JobClient;
  let runner: JobRunnerProcess;
  const workers = new Map<string, WorkerProcess>();
  const relay = new TcpRelay();
  const cluster = uniqueCluster('migrate');

  before(async () => {
    redis = await RedisServer.start();
    const relayPort = await relay.listen();
    const start = (id: string, args: string[] = []) =>
      startWorker({
        redisUrl: redis.url,
        cluster,
        chunkTokens: CHUNK,
        args: ['--worker-id', id, ...args],
      });
    const [a, b, c] = await Promise.all([
      start('w-a'),
      start('w-b'),
      start('w-c', ['--advertise', `127.0.0.1:${relayPort}`]),
    ]);
    for (const w of [a, b, c]) workers.set(w.workerId, w);
    relay.upstreamPort = c.grpcPort;
    runner = await startJobRunner({ redisUrl: redis.url, cluster });
    registry = connectRedis({ url: redis.url, name: 'test/migrate' });
    jobs = new JobClient({ redis: { url: redis.url }, registry, cluster });
  });
  after(async () => {
    await jobs?.close();
    registry?.disconnect();
    relay.close();
    await Promise.all([runner, ...workers.values()].map((p) => p?.kill()));
    await redis?.stop();
  });

  const worker = (id: string) => workers.get(id) as WorkerProcess;

  test("the target serves the prefix from the migrated chunks, with the source's greedy output", async () => {
    const ids = tokenRun(3, 5 * CHUNK + 7);
    await completeOn(worker('w-a').address, ids, { tenant: 'acme' }); // the source computes and caches the prompt
    const source = await completeOn(worker('w-a').address, ids, { tenant: 'acme', maxTokens: 12 });
    assert.equal(source.cached, 5 * CHUNK);

    const request = { tenant: 'acme', prompt: { tokenIds: ids }, source: 'w-a', target: 'w-b' };
    const first = await jobs.add('kv.migrate', request);
    assert.equal(first.added, true);
    assert.doesNotMatch(first.job.id, /:/);
    const done = await finished(jobs, first.job.id);
    assert.equal(done.state, 'completed', JSON.stringify(done));
    const result = done.result as MigrateResult;
    assert.deepEqual(
      [result.source, result.target, result.promptTokens, result.chunks, result.importedTokens],
      ['w-a', 'w-b', ids.length, 5, 5 * CHUNK],
    );
    assert.ok(result.bytes > 0);
    assert.equal((await jobs.add('kv.migrate', request)).added, false, 'the same request is the same job');
    // the command line makes the same request: the same job, not added again
    const where = ['--redis-url', redis.url, '--cluster', cluster];
    const byCli = await jobsCli(
      'migrate',
      ...where,
      ...['--tenant', 'acme', '--token-ids', ids.join(','), '--source', 'w-a', '--target', 'w-b'],
    );
    assert.equal(byCli.code, 0, byCli.stderr);
    assert.match(byCli.stderr, new RegExp(`${first.job.id} exists already`));

    const target = await completeOn(worker('w-b').address, ids, { tenant: 'acme', maxTokens: 12 });
    assert.equal(target.cached, 5 * CHUNK, "the target's cached tokens cover the migrated chunks");
    assert.deepEqual(target.ids, source.ids, "the target's output is the source's");
    // another tenant's request finds none of it: the chunks are keyed by their tenant
    assert.equal((await completeOn(worker('w-b').address, ids, { tenant: 'other' })).cached, 0);

    const m = await scrapeMetrics(runner.metricsUrl);
    assert.equal(m.value('chunkmesh_job_migrated_bytes_total'), result.bytes);
  });

  test('refuses a migration whose target is its source or not live', async () => {
    const p = { tokenIds: tokenRun(9, 40) };
    await assert.rejects(
      jobs.add('kv.migrate', { prompt: p, source: 'w-a', target: 'w-a' }),
      /is the source/,
    );
    await assert.rejects(jobs.add('kv.migrate', { prompt: p, source: 'w-a', target: 'w-z' }), /not live/);
  });

  test('a source killed mid-stream: the target holds nothing of the prefix, the job fails', async () => {
    const ids = tokenRun(4, 6 * CHUNK + 3);
    await completeOn(worker('w-c').address, ids, { tenant: 'acme' }); // straight to its port, not through the relay
    // the relay passes the stream's first chunk or so, then the source dies with the rest unsent
    relay.holdAfter = 30_000;
    relay.onHold = () => void worker('w-c').kill();
    const { job } = await jobs.add('kv.migrate', {
      tenant: 'acme',
      prompt: { tokenIds: ids },
      source: 'w-c',
      target: 'w-b',
    });
    const done = await finished(jobs, job.id);
    assert.equal(relay.held, true, 'the source was killed while its chunks were on the wire');
    assert.equal(done.state, 'failed', JSON.stringify(done));
    assert.match(done.failedReason ?? '', /w-c/);
    assert.equal(
      (await completeOn(worker('w-b').address, ids, { tenant: 'acme' })).cached,
      0,
      'nothing partial on the target',
    );

    // A failed migration does not stand for its request: asking again checks the source anew ...
    const request = { tenant: 'acme', prompt: { tokenIds: ids }, source: 'w-c', target: 'w-b' };
    await assert.rejects(jobs.add('kv.migrate', request), /source worker w-c is not live/);
    // ... and once a w-c is back with the prompt cached, runs it again under the same id.
    const back = await startWorker({
      redisUrl: redis.url,
      cluster,
      chunkTokens: CHUNK,
      args: ['--worker-id', 'w-c'],
    });
    workers.set('w-c', back);
    await completeOn(back.address, ids, { tenant: 'acme' });
    const again = await jobs.add('kv.migrate', request);
    assert.equal(again.added, true, 'the failed job was replaced');
    assert.equal(again.job.id, job.id);
    const redone = await finished(jobs, job.id);
    assert.equal(redone.state, 'completed', JSON.stringify(redone));
    assert.equal(
      (await completeOn(worker('w-b').address, ids, { tenant: 'acme' })).cached,
      6 * CHUNK,
      'migrated this time',
    );
  });
});
