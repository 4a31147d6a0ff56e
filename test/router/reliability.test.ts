// The router between heartbeats and through faults, with real processes on 3
// workers: a burst placed before any heartbeat reports it spreads over the
// workers (the router counts what it forwarded); a hung (SIGSTOPped) worker's
// requests are retried elsewhere by the first-token limit within seconds,
// while a stream it was running resumes when it does; a Redis restarted
// empty, which the workers are slow to rejoin, costs no request (the router
// keeps them until their heartbeats lapse); and a worker that fails is named
// to the client by its id, never by its address.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectStatus, type RouterProcess, readWorkerView, tokenRun, waitFor } from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import {
  CHUNK,
  complete,
  Family,
  type HttpReply,
  MODEL,
  openStream,
  post,
  routerMetric,
  TestCluster,
} from './cluster.ts';

/** The router's per-attempt first-token limit here. */
const FIRST_TOKEN_MS = 2000;

describe('router reliability on 3 workers', { timeout: 120_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;

  before(async () => {
    // A 3 s heartbeat TTL, as in production: a frozen or dead worker stays listed that long.
    c = await TestCluster.start({
      workers: 3,
      name: 'reliability',
      workerArgs: ['--heartbeat-ttl-ms', '3000'],
    });
    router = await c.startRouter(['--first-token-timeout-ms', String(FIRST_TOKEN_MS)]);
  });
  after(async () => {
    await c?.stop();
  });

  test('a burst placed between heartbeats spreads over the workers', async () => {
    // Nine different prompts of one length at once, no prefix cached anywhere: every worker
    // reports the same (idle) load until its next heartbeat, so only what the router counts
    // itself tells them apart.
    const burst = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        complete(router, tokenRun(7000 + i, 3 * CHUNK), { max_tokens: 48, ignore_eos: true }),
      ),
    );
    const perWorker = new Map<string, number>();
    for (const r of burst) perWorker.set(r.workerId, (perWorker.get(r.workerId) ?? 0) + 1);
    assert.equal(perWorker.size, 3, `every worker got some: ${JSON.stringify([...perWorker])}`);
    for (const [id, n] of perWorker) assert.ok(n >= 2, `${id} served ${n} of 9`);
  });

  test("a hung worker's requests are retried elsewhere within seconds; its running stream resumes", async () => {
    const fam = new Family(4242);
    const home = (await complete(router, fam.next())).workerId;
    assert.equal((await complete(router, fam.next())).workerId, home, 'the family has a home');
    const victim = c.worker(home);
    // A stream running on the victim when it hangs.
    const stream = await openStream(`${router.baseUrl}/v1/completions`, {
      model: MODEL,
      prompt: fam.next(),
      max_tokens: 200,
      ignore_eos: true,
      temperature: 0,
      stream: true,
    });
    assert.equal(stream.status, 200);
    await stream.next();
    const retries0 = await routerMetric(router, 'chunkmesh_router_retries_total', { code: 'UNAVAILABLE' });
    victim.signal('SIGSTOP');
    const stoppedAt = Date.now();
    try {
      // Inside the heartbeat TTL the router still lists the victim, and its prefix sends these there.
      const results = await Promise.all(Array.from({ length: 3 }, () => complete(router, fam.next())));
      const took = Date.now() - stoppedAt;
      for (const r of results) assert.notEqual(r.workerId, home, 'served by a worker that runs');
      assert.ok(took < FIRST_TOKEN_MS + 4000, `retried elsewhere after ${took} ms`);
      const retried =
        (await routerMetric(router, 'chunkmesh_router_retries_total', { code: 'UNAVAILABLE' })) - retries0;
      assert.ok(retried >= 1, `retries counted (${retried})`);
      // Frozen a few seconds more, past the keepalive timeout of a less patient client.
      await sleep(Math.max(0, 6000 - (Date.now() - stoppedAt)));
    } finally {
      victim.signal('SIGCONT');
    }
    const rest = await stream.rest();
    assert.equal(rest.at(-1), '[DONE]');
    const last = rest.at(-2);
    assert.equal(last?.choices?.[0]?.finish_reason, 'length', `the stream finished: ${JSON.stringify(last)}`);
    await waitFor(
      'the victim to be live again',
      async () => (await routerMetric(router, 'chunkmesh_router_live_workers')) === 3,
      10_000,
    );
  });

  test('Redis restarted empty while the workers are slow to rejoin: no request fails', async () => {
    // Its own router, without a first-token limit: requests wait out the workers' freeze there.
    const calm = await c.startRouter(['--first-token-timeout-ms', '0']);
    const fam = new Family(5151);
    await complete(calm, fam.next());
    let sending = true;
    const replies: HttpReply[] = [];
    const live: number[] = [];
    const load = Promise.all(
      Array.from({ length: 3 }, async () => {
        while (sending) {
          replies.push(
            await post(`${calm.baseUrl}/v1/completions`, {
              model: MODEL,
              prompt: fam.next(),
              max_tokens: 4,
              temperature: 0,
            }),
          );
        }
      }),
    );
    const watch = (async () => {
      while (sending) {
        live.push(await routerMetric(calm, 'chunkmesh_router_live_workers'));
        await sleep(100);
      }
    })();
    await sleep(500);
    // The workers rejoin late: frozen while Redis restarts and for 1.5 s after, by when the router
    // has reconnected (its first attempts come every few hundred ms) and read the empty registry
    // (every 500 ms). Their heartbeat TTL is 3 s.
    for (const w of c.workers) w.signal('SIGSTOP');
    try {
      await c.redis.restart();
      await sleep(1500);
    } finally {
      for (const w of c.workers) w.signal('SIGCONT');
    }
    const redis = new Redis(c.redis.url, { maxRetriesPerRequest: 1 });
    try {
      await waitFor(
        'the workers to re-register',
        async () => {
          const views = await Promise.all(c.workers.map((w) => readWorkerView(redis, c.cluster, w.workerId)));
          return views.every((v) => v.record !== null);
        },
        10_000,
      );
    } finally {
      redis.disconnect();
    }
    await sleep(1000);
    sending = false;
    await Promise.all([load, watch]);
    const failed = replies.filter((r) => r.status !== 200);
    assert.deepEqual(
      failed.map((r) => `${r.status} ${r.text}`),
      [],
      `${replies.length} requests, none failed`,
    );
    assert.ok(replies.length > 10, `${replies.length} requests`);
    assert.equal(Math.min(...live), 3, `live workers stayed 3 (${live.join(',')})`);
    await calm.kill();
  });

  test('a failed worker is named to clients by its id, never by its address', async () => {
    const strict = await c.startRouter(['--max-retries', '0']);
    const fam = new Family(6262);
    const home = (await complete(strict, fam.next())).workerId;
    assert.equal((await complete(strict, fam.next())).workerId, home);
    const victim = c.worker(home);
    victim.signal('SIGKILL');
    await victim.exited;
    // Inside its heartbeat TTL the router still places the family there, and may not retry.
    const http = await post(`${strict.baseUrl}/v1/completions`, {
      model: MODEL,
      prompt: fam.next(),
      max_tokens: 4,
    });
    assert.equal(http.status, 503, http.text);
    const message: string = http.body.error.message;
    assert.match(message, new RegExp(`worker ${home}`), message);
    const internal = /\d+\.\d+\.\d+\.\d+|:\d{2,5}\b|ECONN|localhost|Error:|\n\s+at /;
    assert.doesNotMatch(message, internal, message);
    const err = await expectStatus(
      c.client(strict.address),
      { tokenIds: { ids: fam.next() }, sampling: { maxTokens: 4 } },
      grpc.status.UNAVAILABLE,
      new RegExp(`worker ${home}`),
    );
    assert.doesNotMatch(err.details, internal, err.details);
    await strict.kill();
  });
});
