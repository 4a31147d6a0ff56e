// prefix.prewarm end to end, with real processes: Redis, three workers, the
// job runner. A prewarm prefills the prompt on exactly the workers it names
// (a later request there finds the prompt's full chunks cached; elsewhere
// nothing); the same prewarm added twice is one job that ran once; a Redis
// killed while a prewarm is in flight (and restarted from its append-only
// file) leaves the job to be retried and completed, once in effect; a prewarm
// that failed runs again when asked again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectRedis } from '@chunkmesh/common';
import { JobClient, type JobView, type PrewarmResult } from '@chunkmesh/jobs';
import {
  completeOn,
  type JobRunnerProcess,
  jobsCli,
  RedisServer,
  readWorkerView,
  startJobRunner,
  startWorker,
  tokenRun,
  uniqueCluster,
  type WorkerProcess,
  waitFor,
} from '@chunkmesh/test-support';
import type { Redis } from 'ioredis';
import { finished } from './jobs-support.ts';

const CHUNK = 16;

/** The prompt tokens a worker finds cached for ids (a greedy one-token completion on it). */
async function cachedOn(worker: WorkerProcess, ids: number[], tenant = ''): Promise<number> {
  return (await completeOn(worker.address, ids, { tenant })).cached;
}

describe('prefix.prewarm', { timeout: 180_000 }, () => {
  const aof = mkdtempSync(join(tmpdir(), 'jobs-aof-'));
  let redis: RedisServer;
  let registry: Redis;
  let jobs: JobClient;
  let runner: JobRunnerProcess;
  const workers: WorkerProcess[] = [];
  const cluster = uniqueCluster('jobs');

  before(async () => {
    redis = await RedisServer.start({ appendOnlyDir: aof });
    for (let i = 0; i < 3; i++)
      workers.push(
        await startWorker({
          redisUrl: redis.url,
          cluster,
          chunkTokens: CHUNK,
          args: ['--worker-id', `w${i}`, '--heartbeat-ttl-ms', '3000'],
        }),
      );
    runner = await startJobRunner({ redisUrl: redis.url, cluster });
    registry = connectRedis({ url: redis.url, name: 'test/jobs' });
    jobs = new JobClient({ redis: { url: redis.url }, registry, cluster });
  });
  after(async () => {
    await jobs?.close();
    registry?.disconnect();
    await Promise.all([runner, ...workers].map((p) => p?.kill()));
    await redis?.stop();
    rmSync(aof, { recursive: true, force: true });
  });

  /** Until the worker's registry entry is there (it registers just after it says it is ready). */
  const registered = (workerId: string) =>
    waitFor(`${workerId} in the registry`, async () => {
      const view = await readWorkerView(registry, cluster, workerId);
      return view.record !== null && view.inWorkersSet;
    });

  test('prefills on exactly the chosen workers; the same prewarm added twice runs once', async () => {
    const ids = tokenRun(1, 5 * CHUNK + 7);
    const request = { tenant: 'acme', prompt: { tokenIds: ids }, workers: ['w0', 'w2'] };
    const first = await jobs.add('prefix.prewarm', request);
    const again = await jobs.add('prefix.prewarm', { ...request, workers: ['w0', 'w2'] });
    assert.equal(first.added, true);
    assert.equal(again.added, false, 'the same request is the same job');
    assert.equal(again.job.id, first.job.id);
    assert.doesNotMatch(first.job.id, /:/);

    const done = await finished(jobs, first.job.id);
    assert.equal(done.state, 'completed', JSON.stringify(done));
    const result = done.result as PrewarmResult;
    assert.deepEqual(
      result.workers.map((w) => [w.workerId, w.promptTokens, w.cachedTokens, w.chunks]),
      [
        ['w0', ids.length, 0, 5],
        ['w2', ids.length, 0, 5],
      ],
    );
    // one prefill per worker, each run once
    assert.deepEqual(
      done.children?.map((c) => [
        c.data && (c.data as { workerId: string }).workerId,
        c.state,
        c.attemptsMade,
      ]),
      [
        ['w0', 'completed', 1],
        ['w2', 'completed', 1],
      ],
    );
    // adding it once more after it completed: still the one job
    assert.equal((await jobs.add('prefix.prewarm', request)).added, false);

    assert.equal(await cachedOn(workers[0] as WorkerProcess, ids, 'acme'), 5 * CHUNK);
    assert.equal(await cachedOn(workers[2] as WorkerProcess, ids, 'acme'), 5 * CHUNK);
    assert.equal(
      await cachedOn(workers[1] as WorkerProcess, ids, 'acme'),
      0,
      'not on a worker it did not name',
    );
    // the tenant is the salt: another tenant's request finds nothing
    assert.equal(await cachedOn(workers[0] as WorkerProcess, ids, 'other'), 0);
  });

  test('refuses a payload that does not fit its schema, naming the field', async () => {
    await assert.rejects(
      jobs.add('prefix.prewarm', { prompt: { text: 'x', tokenIds: [1] } }),
      /exactly one of/,
    );
    await assert.rejects(
      jobs.add('prefix.prewarm', { prompt: { text: 'x' }, workers: ['nope'] }),
      /nope is not live/,
    );
    await assert.rejects(jobs.add('prefix.prewarm', { prompt: { text: 'x' }, count: 0 }), /count/);
    await assert.rejects(
      jobs.add('prefix.prewarm', { prompt: { text: 'x' }, colour: 1 }),
      /colour is not a field/,
    );
  });

  test('count picks the least loaded workers', async () => {
    const ids = tokenRun(2, 3 * CHUNK + 1);
    const { job } = await jobs.add('prefix.prewarm', { prompt: { tokenIds: ids }, count: 2 });
    const done = await finished(jobs, job.id);
    assert.equal(done.state, 'completed', JSON.stringify(done));
    const chosen = (done.result as PrewarmResult).workers.map((w) => w.workerId);
    assert.equal(chosen.length, 2);
    for (const w of workers)
      assert.equal(await cachedOn(w, ids), chosen.includes(w.workerId) ? 3 * CHUNK : 0, w.workerId);
  });

  test('Redis killed while a prewarm is in flight: retried, completed once in effect', async () => {
    const ids = tokenRun(3, 4 * CHUNK + 3);
    const target = workers[1] as WorkerProcess;
    // A frozen worker holds the prefill call open: the job is active when Redis goes. The worker
    // is thawed while Redis is down, so the attempt's prefill lands but its check against Redis
    // fails: the attempt fails and is retried once Redis is back (from its append-only file).
    target.signal('SIGSTOP');
    let thawed = false;
    try {
      const { job } = await jobs.add('prefix.prewarm', { prompt: { tokenIds: ids }, workers: ['w1'] });
      await waitFor('the prefill to be active', async () => {
        const v = await jobs.get(job.id);
        return v?.children?.[0]?.state === 'active';
      });
      // Active is before the processor's registry read and its call: killed at once, Redis could
      // fail the read, and the worker would never get the first attempt's prefill (seen once in
      // CI: the retry then computed it, cachedTokens 0). Time for the call to reach the worker.
      await sleep(500);
      await redis.kill();
      target.signal('SIGCONT');
      thawed = true;
      await sleep(2500);
      await redis.restart();
      const done = await finished(jobs, job.id, 90_000);
      assert.equal(done.state, 'completed', JSON.stringify(done));
      const child = done.children?.[0];
      assert.ok((child?.attemptsMade ?? 0) >= 2, `the prefill was retried: ${JSON.stringify(child)}`);
      const r = (done.result as PrewarmResult).workers[0];
      assert.equal(r?.workerId, 'w1');
      assert.equal(r?.chunks, 4);
      // the retry found the first attempt's prefill cached: computed once
      assert.equal(r?.cachedTokens, 4 * CHUNK);
    } finally {
      if (!thawed) target.signal('SIGCONT');
    }
    assert.equal(await cachedOn(target, ids), 4 * CHUNK);
    assert.equal(await cachedOn(workers[0] as WorkerProcess, ids), 0);
  });

  test('chunkmesh jobs prewarm --wait, status and list from the command line', async () => {
    const ids = tokenRun(4, 2 * CHUNK + 5);
    const where = ['--redis-url', redis.url, '--cluster', cluster];
    const added = await jobsCli(
      'prewarm',
      ...where,
      '--token-ids',
      ids.join(','),
      '--workers',
      'w2',
      '--wait',
    );
    assert.equal(added.code, 0, added.stderr);
    const job = JSON.parse(added.stdout) as JobView;
    assert.equal(job.state, 'completed');
    assert.match(added.stderr, /^added prefix\.prewarm-/);
    assert.equal(await cachedOn(workers[2] as WorkerProcess, ids), 2 * CHUNK);
    const again = await jobsCli('prewarm', ...where, '--token-ids', ids.join(','), '--workers', 'w2');
    assert.match(again.stderr, /exists already \(completed\): not added again/);
    const status = await jobsCli('status', ...where, '--id', job.id);
    assert.equal((JSON.parse(status.stdout) as JobView).id, job.id);
    assert.match((await jobsCli('list', ...where)).stdout, new RegExp(job.id));
    assert.equal((await jobsCli('status', ...where, '--id', 'prefix.prewarm-none')).code, 1);
    const bad = await jobsCli('prewarm', ...where, '--text', 'x', '--workers', 'ghost');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ghost is not live/);
    for (const sub of ['run', 'prewarm', 'drain', 'migrate', 'spill', 'restore', 'status', 'list']) {
      const help = await jobsCli(sub, '--help');
      assert.equal(help.code, 0, sub);
      assert.match(help.stdout, /--redis-url/, sub);
    }
  });

  test('a failed prewarm does not stand for its request: asked again, it runs again', async () => {
    const ids = tokenRun(5, 2 * CHUNK + 3);
    const args = ['--worker-id', 'w3', '--heartbeat-ttl-ms', '3000'];
    const doomed = await startWorker({ redisUrl: redis.url, cluster, chunkTokens: CHUNK, args });
    const request = { prompt: { tokenIds: ids }, workers: ['w3'] };
    await registered('w3');
    // stopped, so the prefill cannot have run before the worker dies; its attempts then fail
    doomed.signal('SIGSTOP');
    const { job } = await jobs.add('prefix.prewarm', request);
    await doomed.kill();
    const failed = await finished(jobs, job.id, 90_000);
    assert.equal(failed.state, 'failed', JSON.stringify(failed));
    assert.equal(failed.children?.[0]?.state, 'failed', JSON.stringify(failed));
    // asked again, it is checked anew: w3 is gone
    await assert.rejects(jobs.add('prefix.prewarm', request), /w3 is not live/);
    assert.equal(
      (await jobs.get(job.id))?.state,
      'failed',
      'a refused request leaves the failed job as it was',
    );
    const back = await startWorker({ redisUrl: redis.url, cluster, chunkTokens: CHUNK, args });
    try {
      await registered('w3');
      const again = await jobs.add('prefix.prewarm', request);
      assert.equal(again.added, true, 'the failed prewarm was replaced');
      assert.equal(again.job.id, job.id);
      const done = await finished(jobs, job.id);
      assert.equal(done.state, 'completed', JSON.stringify(done));
      // the new prefill, not the failed one standing in for it
      assert.deepEqual(
        done.children?.map((c) => [c.state, c.attemptsMade]),
        [['completed', 1]],
      );
      assert.equal(await cachedOn(back, ids), 2 * CHUNK);
      assert.equal((await jobs.add('prefix.prewarm', request)).added, false, 'a completed one stands');
    } finally {
      await back.kill();
    }
  });

  test('the runner counts jobs and their durations on /metrics', async () => {
    const text = await (await fetch(runner.metricsUrl)).text();
    assert.match(text, /chunkmesh_jobs\{[^}]*queue="control"[^}]*state="completed"[^}]*\} [1-9]/);
    assert.match(
      text,
      /chunkmesh_job_duration_seconds_count\{[^}]*name="prefix\.prefill"[^}]*outcome="completed"[^}]*\} [1-9]/,
    );
    assert.match(text, /chunkmesh_job_failures_total\{/);
  });
});
