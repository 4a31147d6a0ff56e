// A worker's reported keys as the runner reads them (snapshot, then the
// events after it), against the reference writer of the layout (the worker's
// KvReporter) on a real redis-server: moves between tiers keep a key resident,
// removals and clears drop it, another epoch's report reads as none.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectRedis, waitForRedis } from '@chunkmesh/common';
import { KvReporter, RedisServer, randomKeys } from '@chunkmesh/test-support';
import type { Redis } from 'ioredis';
import { reportedTiers, type Tier } from '../src/resident-keys.ts';

describe('reportedTiers', () => {
  let server: RedisServer;
  let redis: Redis;
  before(async () => {
    server = await RedisServer.start();
    redis = connectRedis({ url: server.url, name: 'test/resident' });
    await waitForRedis(redis, 5000);
  });
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('follows stores, moves, removals and clears after the snapshot', async () => {
    const reporter = new KvReporter({
      redis,
      cluster: 'resident',
      workerId: 'w',
      endpoint: '127.0.0.1:1',
      modelId: 'm',
      chunkTokens: 16,
      kvDtype: 'f32',
      capacityChunks: 100,
      epoch: '7',
      heartbeatIntervalMs: 50,
      heartbeatTtlMs: 1000,
      flushDelayMs: 2,
      // no snapshot after the first: the reads below replay the events
      snapshotIntervalMs: 60_000,
    });
    await reporter.start();
    try {
      const keys = randomKeys(6);
      const [a, b, c, d] = keys;
      /** The reported key -> tier, once it is `want` (or as it is after 5 s). */
      const read = async (want: [bigint | undefined, Tier][]) => {
        const expected = JSON.stringify(want.map(([k, t]) => [String(k), t]).sort());
        const deadline = Date.now() + 5000;
        for (;;) {
          const tiers = (await reportedTiers(redis, 'resident', 'w', '7')) ?? new Map<bigint, Tier>();
          const have = JSON.stringify([...tiers].map(([k, t]) => [String(k), t]).sort());
          if (have === expected || Date.now() > deadline) return have;
          await sleep(20);
        }
      };
      const same = async (want: [bigint | undefined, Tier][]) =>
        assert.equal(await read(want), JSON.stringify(want.map(([k, t]) => [String(k), t]).sort()));
      reporter.publish([{ op: 'stored', tier: 'device', keys: keys.subarray(0, 4) }]);
      await same([
        [a, 'device'],
        [b, 'device'],
        [c, 'device'],
        [d, 'device'],
      ]);
      reporter.publish([{ op: 'demoted', tier: 'host', from: 'device', keys: keys.subarray(0, 2) }]);
      reporter.publish([{ op: 'removed', tier: 'device', keys: keys.subarray(2, 3) }]);
      // a removal from a tier the key is not in leaves it where it is
      reporter.publish([{ op: 'removed', tier: 'device', keys: keys.subarray(0, 1) }]);
      await same([
        [a, 'host'],
        [b, 'host'],
        [d, 'device'],
      ]);
      reporter.publish([{ op: 'cleared', tier: 'host', keys: new BigUint64Array(0) }]);
      await same([[d, 'device']]);
      assert.equal(await reportedTiers(redis, 'resident', 'w', '8'), null, 'another epoch: no report');
    } finally {
      await reporter.stop();
    }
  });
});
