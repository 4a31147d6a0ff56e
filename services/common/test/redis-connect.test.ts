// The connection policy: Redis outages surface as prompt failures, never as
// commands that hang (which would wedge the reporter's and index's loops).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisServer } from '@chunkmesh/test-support';
import { connectRedis, isRedisUp, waitForRedis } from '../src/index.ts';

let server: RedisServer;
before(async () => {
  server = await RedisServer.start();
});
after(() => server.stop());

describe('redis connections', () => {
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
