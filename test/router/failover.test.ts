// A worker SIGKILLed under traffic, with real processes: requests that had not
// produced a token are retried on another worker and succeed (the router still
// believes the dead worker is live until its heartbeat expires, so it does
// place them there first); a stream that had produced tokens ends with an
// error instead; once the heartbeat TTL (1 s) passes, the index forgets the
// worker and the family's traffic settles on a new worker with its prefix.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InfoResponse } from '@chunkmesh/common';
import {
  info,
  type RouterProcess,
  scrapeMetrics,
  type WorkerProcess,
  waitFor,
} from '@chunkmesh/test-support';
import { CHUNK, complete, Family, MODEL, openStream, routerMetric, TestCluster } from './cluster.ts';

const PREFIX = 5 * CHUNK;

describe('a worker killed under traffic', { timeout: 60_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;
  const fam = new Family(808);
  let victim: WorkerProcess;
  let capacityBefore = 0;

  before(async () => {
    c = await TestCluster.start({ workers: 3, name: 'failover' });
    router = await c.startRouter(['--max-retries', '2']);
  });
  after(async () => {
    await c?.stop();
  });

  test('requests that had no token yet are retried elsewhere and succeed; a started stream ends in an error', async () => {
    // The family's home: where its prefix is cached, so the router sends the family there.
    const first = await complete(router, fam.next());
    const home = await complete(router, fam.next());
    assert.deepEqual([home.workerId, home.cached], [first.workerId, PREFIX]);
    victim = c.worker(home.workerId);
    capacityBefore = (await info(c.client(router.address))).capacityChunks;

    // A long stream on the victim that has produced tokens when the victim dies.
    const stream = await openStream(`${router.baseUrl}/v1/completions`, {
      model: MODEL,
      prompt: fam.next(),
      max_tokens: 400,
      ignore_eos: true,
      temperature: 0,
      stream: true,
    });
    assert.equal(stream.status, 200);
    const firstChunk = await stream.next();
    assert.equal(typeof firstChunk.choices[0].text, 'string');

    const retries0 = await routerMetric(router, 'chunkmesh_router_retries_total', { code: 'UNAVAILABLE' });
    victim.signal('SIGKILL');
    await victim.exited;
    // At once, well inside the heartbeat TTL: the router still lists the victim, and it holds the prefix.
    const m = await scrapeMetrics(router.metricsUrl);
    assert.equal(m.value('chunkmesh_router_live_workers'), 3, 'the router has not noticed the death yet');
    const burst = await Promise.all(
      Array.from({ length: 4 }, () => complete(router, fam.next(), { max_tokens: 8 })),
    );
    const retried =
      (await routerMetric(router, 'chunkmesh_router_retries_total', { code: 'UNAVAILABLE' })) - retries0;
    for (const r of burst) {
      assert.notEqual(r.workerId, victim.workerId, 'answered by a live worker');
      assert.equal(r.completionTokens, 8);
    }
    assert.ok(retried >= 1, `retries counted on /metrics (${retried})`);

    // The stream that was running on the victim: tokens, then an error event, then [DONE].
    const rest = await stream.rest();
    assert.equal(rest[rest.length - 1], '[DONE]');
    const error = rest[rest.length - 2];
    assert.ok(error?.error, `an error event before [DONE]: ${JSON.stringify(error)}`);
    assert.equal(error.error.code, 'unavailable');
    assert.match(error.error.message, /failed after \d+ tokens/);
    assert.ok(
      rest.slice(0, -2).every((ch) => ch.choices?.[0]?.finish_reason === null),
      'no final chunk: the completion did not finish',
    );
  });

  test('after the heartbeat TTL the index forgets the worker', async () => {
    await waitFor(
      'live workers to drop to 2',
      async () => (await routerMetric(router, 'chunkmesh_router_live_workers')) === 2,
      5_000,
    );
    const survivors = c.workers.filter((w) => w.running);
    assert.equal(survivors.length, 2);
    const theirs: InfoResponse[] = await Promise.all(survivors.map((w) => info(c.client(w.address))));
    const mine = await info(c.client(router.address));
    assert.equal(
      mine.capacityChunks,
      theirs.reduce((n, w) => n + w.capacityChunks, 0),
    );
    assert.ok(mine.capacityChunks < capacityBefore, `${mine.capacityChunks} < ${capacityBefore}`);
    const pending = (await scrapeMetrics(router.metricsUrl)).all('chunkmesh_router_worker_pending_tokens');
    assert.ok(
      pending.every((s) => s.labels.worker !== victim.workerId),
      'no per-worker series for the dead worker',
    );
    assert.equal((await fetch(`${router.opsUrl}/readyz`)).status, 200, 'still ready with 2 workers');
  });

  test("the family's traffic settles on one surviving worker, which now holds the prefix", async () => {
    const retries0 = await routerMetric(router, 'chunkmesh_router_retries_total');
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await complete(router, fam.next()));
    const homes = new Set(results.map((r) => r.workerId));
    assert.equal(homes.size, 1, `one new home: ${[...homes]}`);
    assert.ok(!homes.has(victim.workerId));
    for (const r of results) assert.equal(r.cached, PREFIX, 'the prefix is cached on the new home');
    assert.equal(await routerMetric(router, 'chunkmesh_router_retries_total'), retries0, 'no more retries');
  });
});
