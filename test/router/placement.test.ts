// Placement through real processes: a router in front of three workers
// reporting to a private Redis. What counts is what the workers REALISED
// (usage cached tokens, and the worker that answered), not what the router
// believed. Prompts are token ids, so prefixes are exact: a family shares 5
// full chunks (80 tokens) and each member adds 8 tokens of its own, so a
// member placed where its family ran before finds exactly 80 tokens cached.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generate, type RouterProcess } from '@chunkmesh/test-support';
import { CHUNK, type CompletionResult, complete, Family, routerMetric, TestCluster } from './cluster.ts';

const PREFIX = 5 * CHUNK;

describe('router placement on 3 workers', { timeout: 90_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess; // defaults: prefix-aware
  let guarded: RouterProcess; // prefix-aware, load ignored, small balance guard
  let unguarded: RouterProcess; // prefix-aware, load ignored, guard out of reach
  let roundRobin: RouterProcess;

  before(async () => {
    // --max-batch 2: a hot worker queues, so its load stays visible to routers for a while.
    c = await TestCluster.start({ workers: 3, workerArgs: ['--max-batch', '2'], name: 'placement' });
    [router, guarded, unguarded, roundRobin] = await Promise.all([
      c.startRouter(),
      c.startRouter(['--load-weight', '0', '--guard-factor', '1.25', '--guard-slack-tokens', '32']),
      c.startRouter(['--load-weight', '0']),
      c.startRouter(['--policy', 'round-robin']),
    ]);
  });
  after(async () => {
    await c?.stop();
  });

  test('a prompt family keeps landing on the worker that holds its prefix (realised cached tokens)', async () => {
    const a = new Family(101);
    const b = new Family(202);
    const a1 = await complete(router, a.next());
    assert.equal(a1.cached, 0, 'a new prefix is cached nowhere');
    const wa = a1.workerId;
    assert.ok(c.sortedIds().includes(wa), `answered by a worker of the cluster: ${wa}`);
    for (let i = 0; i < 3; i++) {
      const r = await complete(router, a.next());
      assert.deepEqual([r.workerId, r.cached], [wa, PREFIX], `family A, request ${i + 2}`);
    }
    const b1 = await complete(router, b.next());
    assert.equal(b1.cached, 0);
    const wb = b1.workerId;
    for (let i = 0; i < 3; i++) {
      const ra = await complete(router, a.next());
      const rb = await complete(router, b.next());
      assert.deepEqual([ra.workerId, ra.cached], [wa, PREFIX], `family A after B, round ${i}`);
      assert.deepEqual([rb.workerId, rb.cached], [wb, PREFIX], `family B, round ${i}`);
    }
  });

  test('a prefix cached on workers the router never chose attracts its family (index from worker events)', async () => {
    // Seed two families straight on the workers a tie-break would NOT pick (ids sort after the
    // first), bypassing the router: only the workers' events can tell it where they are.
    const [, w1, w2] = c.sortedIds() as [string, string, string];
    const fc = new Family(303);
    const fd = new Family(404);
    const entries0 = await routerMetric(router, 'chunkmesh_router_index_entries');
    const seedC = await generate(c.client(c.worker(w2).address), {
      tokenIds: { ids: fc.next() },
      sampling: { maxTokens: 4 },
    });
    const seedD = await generate(c.client(c.worker(w1).address), {
      tokenIds: { ids: fd.next() },
      sampling: { maxTokens: 4 },
    });
    assert.deepEqual([seedC.final.workerId, seedD.final.workerId], [w2, w1]);
    const deadline = Date.now() + 5_000;
    while ((await routerMetric(router, 'chunkmesh_router_index_entries')) < entries0 + 10) {
      assert.ok(Date.now() < deadline, 'the router indexes the seeded chunks from the event stream');
      await sleep(50);
    }
    const prefixDecisions0 = await routerMetric(router, 'chunkmesh_router_decisions_total', {
      reason: 'prefix',
    });
    const predicted0 = await routerMetric(router, 'chunkmesh_router_predicted_cached_tokens_total');
    const realised0 = await routerMetric(router, 'chunkmesh_router_realised_cached_tokens_total');
    const front = c.client(router.address);
    for (let round = 0; round < 2; round++) {
      for (const [fam, worker] of [
        [fc, w2],
        [fd, w1],
      ] as const) {
        const r = await generate(front, { tokenIds: { ids: fam.next() }, sampling: { maxTokens: 4 } });
        assert.equal(r.final.workerId, worker, `family ${fam.seed}, round ${round}: placed on its worker`);
        assert.equal(r.final.usage?.cachedPromptTokens, PREFIX, `family ${fam.seed}: realised prefix hit`);
      }
    }
    const decisions =
      (await routerMetric(router, 'chunkmesh_router_decisions_total', { reason: 'prefix' })) -
      prefixDecisions0;
    const predicted =
      (await routerMetric(router, 'chunkmesh_router_predicted_cached_tokens_total')) - predicted0;
    const realised =
      (await routerMetric(router, 'chunkmesh_router_realised_cached_tokens_total')) - realised0;
    assert.equal(decisions, 4, 'every placement was by prefix');
    assert.equal(realised, 4 * PREFIX);
    assert.equal(predicted, realised, 'the index predicted exactly what the workers realised');
  });

  test('tenants never share a cached prefix: the same tokens under another tenant find nothing', async () => {
    const fam = new Family(111);
    const a1 = await complete(router, fam.next(), { tenant: 'acme' });
    const a2 = await complete(router, fam.next(), { tenant: 'acme' });
    assert.deepEqual([a2.workerId, a2.cached], [a1.workerId, PREFIX], 'within a tenant, as usual');
    const other = await complete(router, fam.next(), { tenant: 'globex' });
    assert.equal(other.cached, 0, 'another tenant');
    const none = await complete(router, fam.next());
    assert.equal(none.cached, 0, 'the default tenant');
    const again = await complete(router, fam.next(), { tenant: 'globex' });
    assert.deepEqual([again.workerId, again.cached], [other.workerId, PREFIX], "globex's own prefix");
  });

  describe('a hot prefix under concurrent load', () => {
    const N = 12;

    /** N requests of one new family, 150 ms apart, each long enough (300 tokens) to overlap the next ones. */
    async function burst(r: RouterProcess, seed: number): Promise<CompletionResult[]> {
      // Start from idle workers as this router sees them.
      const deadline = Date.now() + 5_000;
      while ((await routerMetric(r, 'chunkmesh_router_worker_pending_tokens')) > 0) {
        assert.ok(Date.now() < deadline, 'workers idle before the burst');
        await sleep(50);
      }
      const fam = new Family(seed);
      const pending: Promise<CompletionResult>[] = [];
      for (let i = 0; i < N; i++) {
        pending.push(complete(r, fam.next(), { max_tokens: 300, ignore_eos: true }));
        await sleep(150);
      }
      return Promise.all(pending);
    }

    function spread(results: CompletionResult[]): Map<string, number> {
      const m = new Map<string, number>();
      for (const r of results) m.set(r.workerId, (m.get(r.workerId) ?? 0) + 1);
      return m;
    }

    const coldMisses = (results: CompletionResult[]) => results.filter((r) => r.cached === 0).length;

    test('with a small balance guard the burst spreads over more than one worker', async (t) => {
      const guard0 = await routerMetric(guarded, 'chunkmesh_router_decisions_total', { reason: 'guard' });
      const results = await burst(guarded, 505);
      const by = spread(results);
      t.diagnostic(`spread ${JSON.stringify([...by])}, cold misses ${coldMisses(results)}`);
      assert.ok(by.size >= 2, `spread over ${JSON.stringify([...by])}`);
      const guardMoves =
        (await routerMetric(guarded, 'chunkmesh_router_decisions_total', { reason: 'guard' })) - guard0;
      assert.ok(guardMoves >= 1, 'the guard moved requests off the hot worker');
      for (const r of results) assert.equal(r.completionTokens, 300);
      // Wherever the guard sent them, later requests found the prefix (on the new workers too).
      assert.ok(
        coldMisses(results) <= by.size,
        `cold misses ${coldMisses(results)} <= workers used ${by.size}`,
      );
    });

    test('with the guard out of reach the same burst piles onto one worker, all prefix hits but the first', async (t) => {
      const results = await burst(unguarded, 606);
      const by = spread(results);
      t.diagnostic(`spread ${JSON.stringify([...by])}`);
      assert.equal(by.size, 1, `one worker: ${JSON.stringify([...by])}`);
      assert.equal(coldMisses(results), 1);
      for (const r of results.slice(1)) assert.equal(r.cached, PREFIX);
    });

    test('round-robin ignores the prefix: an even spread, one cold miss per worker', async () => {
      const results = await burst(roundRobin, 707);
      const by = spread(results);
      assert.deepEqual(
        [...by.values()],
        [N / 3, N / 3, N / 3],
        `even spread over all workers: ${JSON.stringify([...by])}`,
      );
      assert.equal(coldMisses(results), 3, 'the first request on each worker misses');
    });
  });
});
