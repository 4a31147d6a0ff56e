// Several router replicas against one Redis hold the same index and make the
// same placement from the same state: the index is rebuilt from the same
// snapshots and stream, and the policy is a pure function of it (ties broken
// by worker id). Speculative placements are each replica's own and are left
// out here (a TTL of 0).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectRedis, waitForRedis } from '@chunkmesh/common';
import { chunkKeys } from '@chunkmesh/native';
import { KvReporter, RedisServer } from '@chunkmesh/test-support';
import { ClusterIndex } from '../src/index/cluster-index.ts';
import { decide } from '../src/placement/decide.ts';
import { createPolicy } from '../src/placement/policies.ts';

const CONSTANTS = { modelId: 'replica-test', chunkTokens: 16 };
const SPACE = { ...CONSTANTS, salt: '' };
const tokens = (seed: number, n: number) =>
  Array.from({ length: n }, (_, i) => (seed * 7919 + i * 31) % 30000);

describe('router replicas', () => {
  let server: RedisServer;
  const stops: (() => unknown)[] = [];
  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
    await server.stop();
  });

  async function redis() {
    const r = connectRedis({ url: server.url, maxBackoffMs: 100 });
    stops.push(() => r.disconnect());
    await waitForRedis(r, 5000);
    return r;
  }

  it('place identically from the same Redis state, on the worker holding the prefix', async () => {
    const cluster = `replicas-${randomUUID().slice(0, 8)}`;
    const systems = [tokens(1, 160), tokens(2, 160), tokens(3, 160)];
    // worker w{i} holds system prompt i and a few conversations on it; w3 holds nothing
    for (let w = 0; w < 4; w++) {
      const reporter = new KvReporter({
        redis: await redis(),
        cluster,
        workerId: `w${w}`,
        endpoint: `127.0.0.1:${51000 + w}`,
        ...CONSTANTS,
        kvDtype: 'f16',
        capacityChunks: 10_000,
        heartbeatIntervalMs: 50,
        heartbeatTtlMs: 2000,
        flushDelayMs: 2,
      });
      stops.push(() => reporter.stop());
      await reporter.start();
      const system = systems[w];
      if (system) {
        for (let c = 0; c < 3; c++) {
          reporter.publish([
            { op: 'stored', tier: 'device', keys: chunkKeys(SPACE, [...system, ...tokens(100 * w + c, 64)]) },
          ]);
        }
      }
    }
    const replicas = [];
    for (let i = 0; i < 2; i++) {
      const ix = new ClusterIndex({
        redis: await redis(),
        cluster,
        constants: CONSTANTS,
        pollIntervalMs: 50,
        blockMs: 100,
      });
      stops.push(() => ix.stop());
      await ix.start();
      replicas.push(ix);
    }
    const [a, b] = replicas as [ClusterIndex, ClusterIndex];
    const deadline = Date.now() + 5000;
    while (
      !(
        a.workers().length === 4 &&
        b.workers().length === 4 &&
        a.stats().entries === b.stats().entries &&
        a.stats().entries >= 39
      )
    ) {
      if (Date.now() > deadline)
        assert.fail(`replicas did not converge: ${a.stats().entries} vs ${b.stats().entries}`);
      await sleep(20);
    }

    const options = replicas.map((index) => ({
      constants: CONSTANTS,
      policy: createPolicy('prefix-aware'),
      index,
      speculationTtlMs: 0,
    }));
    const place = (replica: number, prompt: number[]) => {
      const o = options[replica] as (typeof options)[number];
      const { workerId, reason, predictedCachedTokens } = decide(
        o,
        { promptTokens: prompt, tenant: SPACE.salt },
        o.index.workers(),
      );
      return { workerId, reason, predictedCachedTokens };
    };
    for (let r = 0; r < 40; r++) {
      const system = systems[r % 4];
      const prompt = system ? [...system, ...tokens(5000 + r, 40)] : tokens(9000 + r, 200);
      const pa = place(0, prompt);
      const pb = place(1, prompt);
      assert.deepEqual(pa, pb, `request ${r}`);
      if (system) {
        assert.equal(pa.workerId, `w${r % 4}`);
        assert.equal(pa.predictedCachedTokens, 160);
      }
    }
  });
});
