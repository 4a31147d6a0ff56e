// The connection policy: Redis outages surface as prompt failures, never as
// commands that hang (which would wedge the reporter's and index's loops).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisServer } from '@chunkmesh/test-support';
import { connectRedis, isRedisUp, redisRetryDelay, waitForRedis } from '../src/index.ts';

let server: RedisServer;
before(async () => {
  server = await RedisServer.start();
});
after(() => server.stop());

describe('redis connections', () => {
  it('wait between reconnection attempts doubling up to the cap, with up to 50 ms of jitter', () => {
    const within = (x: number, lo: number) => x >= lo && x < lo + 50;
    for (let i = 0; i < 100; i++) {
      assert.ok(within(redisRetryDelay(1), 100));
      assert.ok(within(redisRetryDelay(4), 800));
      assert.ok(within(redisRetryDelay(40), 2000), 'capped at 2 s by default');
      assert.ok(within(redisRetryDelay(40, 500), 500));
    }
  });

  it('fails commands in flight when Redis dies, even if it is back before the next attempt', async (t) => {
    if (!server.restartable) return t.skip('REDIS_URL is set: cannot restart an external server');
    const redis = connectRedis({ url: server.url, maxBackoffMs: 100 });
    t.after(() => redis.disconnect());
    await waitForRedis(redis, 5000);
    assert.ok(isRedisUp(redis));

    const blocked = assert.rejects(redis.xread('BLOCK', 10_000, 'STREAMS', 'nothing', '$'));
    await server.restart();
    await blocked;
    await waitForRedis(redis, 5000);
    assert.equal(await redis.ping(), 'PONG');
  });

  it('fails commands issued during an outage once a reconnection attempt fails', async (t) => {
    if (!server.restartable) return t.skip('REDIS_URL is set: cannot restart an external server');
    const redis = connectRedis({ url: server.url, maxBackoffMs: 100 });
    t.after(() => redis.disconnect());
    await waitForRedis(redis, 5000);
    await server.kill();
    await assert.rejects(redis.set('k', 'v'));
    assert.ok(!isRedisUp(redis));
    await server.restart();
    await waitForRedis(redis, 5000);
    assert.equal(await redis.set('k', 'v'), 'OK');
  });
});
