// Restarts with real processes. A router killed and started cold rebuilds its
// index from Redis (worker snapshots + the event stream) and places by prefix
// at once. A Redis restart (the private server comes back EMPTY) loses every
// registry entry, snapshot and event: the workers notice, register and resync
// their full trees, the router's index comes back, and placement is prefix-
// aware again; workers that cannot re-register (frozen) are forgotten once
// their heartbeats lapse. Families are seeded straight on workers a tie-break would not
// choose, so only the index can send a family to its worker.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generate, type RouterProcess, readWorkerView, waitFor } from '@chunkmesh/test-support';
import { Redis } from 'ioredis';
import { CHUNK, complete, Family, routerMetric, TestCluster } from './cluster.ts';

const PREFIX = 5 * CHUNK;

describe('router and Redis restarts', { timeout: 60_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;
  let homes: [Family, string][];

  /** Each family, sent through the router, lands on its home with the prefix cached. */
  async function assertPrefixAware(r: RouterProcess, what: string): Promise<void> {
    for (const [fam, home] of homes) {
      const res = await complete(r, fam.next());
      assert.deepEqual(
        [res.workerId, res.cached],
        [home, PREFIX],
        `${what}: family ${fam.seed} goes to ${home} and finds its prefix`,
      );
    }
  }

  before(async () => {
    c = await TestCluster.start({ workers: 3, name: 'restart' });
    router = await c.startRouter();
    const [, w1, w2] = c.sortedIds() as [string, string, string];
    homes = [
      [new Family(901), w2],
      [new Family(902), w1],
    ];
    const entries0 = await routerMetric(router, 'chunkmesh_router_index_entries');
    for (const [fam, home] of homes) {
      await generate(c.client(c.worker(home).address), {
        tokenIds: { ids: fam.next() },
        sampling: { maxTokens: 4 },
      });
    }
    await waitFor(
      'the seeded prefixes in the index',
      async () => (await routerMetric(router, 'chunkmesh_router_index_entries')) >= entries0 + 10,
    );
  });
  after(async () => {
    await c?.stop();
  });

  test('a router restarted cold rebuilds its index from Redis and places by prefix', async () => {
    await assertPrefixAware(router, 'before the restart');
    router.signal('SIGKILL');
    await router.exited;
    router = await c.startRouter();
    // Ready once bootstrapped from the snapshots; the events after them are read right after.
    await waitFor(
      'the new router to index the seeded prefixes',
      async () => (await routerMetric(router, 'chunkmesh_router_index_entries')) >= 10,
    );
    await assertPrefixAware(router, 'new router');
  });

  test('after a Redis restart (empty) the workers re-register and resync, placement stays prefix-aware', async () => {
    const entries0 = await routerMetric(router, 'chunkmesh_router_index_entries');
    await c.redis.restart();
    const redis = new Redis(c.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      // Every worker registers again and republishes its whole tree with a snapshot.
      await waitFor(
        'workers to re-register and snapshot',
        async () => {
          const views = await Promise.all(c.workers.map((w) => readWorkerView(redis, c.cluster, w.workerId)));
          return views.every((v) => v.record !== null && v.inWorkersSet && v.snapshot !== null);
        },
        10_000,
      );
      for (const [, home] of homes) {
        const v = await readWorkerView(redis, c.cluster, home);
        const stored = new Set(
          v.events.filter((e) => e.event.op === 'stored').flatMap((e) => [...e.event.keys]),
        );
        assert.ok(stored.size >= 5, `${home} republished its chunks (${stored.size} keys)`);
        assert.ok(v.snapshot && v.snapshot.tiers.device.length >= 5, `${home}'s snapshot holds its chunks`);
      }
    } finally {
      redis.disconnect();
    }
    await waitFor(
      'the router to see every worker and its chunks again',
      async () =>
        (await routerMetric(router, 'chunkmesh_router_live_workers')) === 3 &&
        (await routerMetric(router, 'chunkmesh_router_index_entries')) >= entries0,
      10_000,
    );
    await assertPrefixAware(router, 'after the Redis restart');
    // New prefixes are learnt as before.
    const fresh = new Family(903);
    const a = await complete(router, fresh.next());
    const b = await complete(router, fresh.next());
    assert.deepEqual([b.workerId, b.cached], [a.workerId, PREFIX], 'a new family after the restart');
  });

  test('a Redis restart with every worker frozen: the router forgets them once their heartbeats lapse, then rebuilds from their resyncs', async () => {
    // Three families of PREFIX tokens each, one worker each. Waited for, not read: the fresh
    // family's second request was placed by speculation, and its events may still be on their way
    // (read early, the count would be met again by two workers' resyncs without the third's).
    const entries0 = 3 * (PREFIX / CHUNK);
    await waitFor(
      'every family in the index',
      async () => (await routerMetric(router, 'chunkmesh_router_index_entries')) === entries0,
    );
    // Frozen workers cannot re-register: the router keeps them for one heartbeat TTL (1 s) from
    // its reconnection to the empty Redis, then drops them (they stay frozen well inside what gRPC
    // and the engine tolerate).
    for (const w of c.workers) w.signal('SIGSTOP');
    try {
      await c.redis.restart();
      await waitFor(
        'the router to forget every worker',
        async () => (await routerMetric(router, 'chunkmesh_router_live_workers')) === 0,
        8_000,
      );
      assert.equal(await routerMetric(router, 'chunkmesh_router_index_entries'), 0, 'and their chunks');
      assert.equal((await fetch(`${router.opsUrl}/readyz`)).status, 503, 'not ready without workers');
    } finally {
      for (const w of c.workers) w.signal('SIGCONT');
    }
    await waitFor(
      'the router to see every worker and its chunks again',
      async () =>
        (await routerMetric(router, 'chunkmesh_router_live_workers')) === 3 &&
        (await routerMetric(router, 'chunkmesh_router_index_entries')) >= entries0,
      10_000,
    );
    assert.equal((await fetch(`${router.opsUrl}/readyz`)).status, 200);
    await assertPrefixAware(router, 'after the router forgot and relearnt the workers');
  });

  test('a router started cold after the Redis restarts bootstraps from the resynced state', async () => {
    const cold = await c.startRouter();
    await waitFor(
      'the cold router to index the seeded prefixes',
      async () => (await routerMetric(cold, 'chunkmesh_router_index_entries')) >= 10,
    );
    await assertPrefixAware(cold, 'cold router after the Redis restarts');
  });
});
