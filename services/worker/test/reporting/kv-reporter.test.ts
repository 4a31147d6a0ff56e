// What KvReporter leaves in Redis, read back with the common codecs against a
// private redis-server (the index side is in services/router/test/index).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  clusterKeys,
  connectRedis,
  IDLE_LOAD,
  parseEventFields,
  parseSnapshot,
  parseWorkerRecord,
  type StreamEvent,
  waitForRedis,
} from '@chunkmesh/common';
import { CHUNK_KEY_FORMAT } from '@chunkmesh/native';
import { RedisServer, randomKeys, TreeEventSource } from '@chunkmesh/test-support';
import type { Redis } from 'ioredis';
import { KvReporter, type KvReporterOptions } from '../../src/reporting/kv-reporter.ts';

let server: RedisServer;
before(async () => {
  server = await RedisServer.start();
});
after(() => server.stop());

/** What the reporter registers, as given and as read back. */
const REGISTRATION = {
  endpoint: '10.1.2.3:50051',
  modelId: 'test-model',
  chunkTokens: 64,
  kvDtype: 'bf16',
  capacityChunks: 512,
} as const;

/** A reporter on a fresh cluster, its connection and an admin connection, both ready. */
async function setup(t: TestContext, extra: Partial<KvReporterOptions> = {}) {
  const cluster = `t-${randomUUID().slice(0, 8)}`;
  const redis = connectRedis({ url: server.url, maxBackoffMs: 100 });
  const admin = connectRedis({ url: server.url, maxBackoffMs: 100 });
  const reporter = new KvReporter({
    redis,
    cluster,
    workerId: 'w0',
    ...REGISTRATION,
    heartbeatIntervalMs: 50,
    heartbeatTtlMs: 300,
    flushDelayMs: 2,
    snapshotIntervalMs: 100,
    ...extra,
  });
  t.after(async () => {
    await reporter.stop();
    redis.disconnect();
    admin.disconnect();
  });
  await Promise.all([waitForRedis(redis, 5000), waitForRedis(admin, 5000)]);
  return { reporter, redis, admin, keys: clusterKeys(cluster) };
}

async function events(admin: Redis, key: string): Promise<(StreamEvent & { id: string })[]> {
  const entries = await admin.xrangeBuffer(key, '-', '+');
  return entries.map(([id, fields]) => ({ id: id.toString(), ...parseEventFields(fields) }));
}

async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

describe('kv reporter', () => {
  it('registers with a fresh epoch, heartbeats its load, and starts its stream with a resync', async (t) => {
    const { reporter, admin, keys } = await setup(t);
    await reporter.start();
    assert.match(reporter.epoch, /^\d+$/);
    assert.notEqual(reporter.epoch, (await setup(t)).reporter.epoch);

    assert.deepEqual(await admin.smembers(keys.workers), ['w0']);
    const ttl = await admin.pttl(keys.worker('w0'));
    assert.ok(ttl > 0 && ttl <= 300, `ttl ${ttl}`);
    const record = parseWorkerRecord('w0', await admin.hgetall(keys.worker('w0')));
    // 0 from the first heartbeat, or 3 (the resync's entries) if the next one came before this read.
    assert.ok(record?.seq === 0 || record?.seq === 3, `seq ${record?.seq}`);
    assert.deepEqual(
      { ...record, seq: 0 },
      {
        workerId: 'w0',
        ...REGISTRATION,
        keyFormat: CHUNK_KEY_FORMAT,
        epoch: reporter.epoch,
        seq: 0,
        load: IDLE_LOAD,
      },
    );

    const stream = await events(admin, keys.events);
    assert.deepEqual(
      stream.map((e) => [e.worker, e.epoch, e.seq, e.op, e.tier, e.keys.length]),
      ['device', 'host', 'disk'].map((tier, i) => ['w0', reporter.epoch, i + 1, 'cleared', tier, 0]),
    );
    const snap = parseSnapshot('w0', await admin.hgetallBuffer(keys.snapshot('w0')));
    assert.equal(snap?.seq, 3);
    assert.equal(snap?.id, stream[2]?.id);
    assert.equal(snap?.epoch, reporter.epoch);

    reporter.setLoad({ ...IDLE_LOAD, queuedRequests: 4, freeChunks: 100 });
    await until('the load is reported', async () => {
      const record = parseWorkerRecord('w0', await admin.hgetall(keys.worker('w0')));
      return record?.load.queuedRequests === 4 && record.load.freeChunks === 100 && record.seq === 3;
    });
  });

  it('appends events in order with gapless seqs, splitting large ones, and snapshots the mirror', async (t) => {
    const { reporter, admin, keys } = await setup(t, { maxKeysPerEntry: 16 });
    await reporter.start();
    const tree = new TreeEventSource();
    const published = [
      ...tree.store(40),
      ...tree.remove(10),
      ...tree.store(5, 'host'),
      ...tree.clear('host'),
    ];
    reporter.publish(published);

    // 3 resync entries at start, then 6 for these events.
    await until('the snapshot covers every event', async () => {
      const snap = parseSnapshot('w0', await admin.hgetallBuffer(keys.snapshot('w0')));
      return snap?.seq === 9;
    });
    assert.equal(reporter.stats().seq, 9);
    const stream = (await events(admin, keys.events)).slice(3);
    assert.deepEqual(
      stream.map((e) => e.seq),
      stream.map((_, i) => i + 4),
    );
    assert.deepEqual(
      stream.map((e) => [e.op, e.tier, e.keys.length]),
      [
        ['stored', 'device', 16],
        ['stored', 'device', 16],
        ['stored', 'device', 8],
        ['removed', 'device', 10],
        ['stored', 'host', 5],
        ['cleared', 'host', 0],
      ],
    );
    assert.deepEqual(
      stream.filter((e) => e.op === 'stored' && e.tier === 'device').flatMap((e) => [...e.keys]),
      [...(published[0]?.keys ?? [])],
    );

    const snap = parseSnapshot('w0', await admin.hgetallBuffer(keys.snapshot('w0')));
    assert.equal(snap?.id, stream.at(-1)?.id);
    assert.deepEqual(new Set(snap?.tiers.device), reporter.resident('device'));
    assert.equal(reporter.resident('device').size, 30);
    assert.equal(snap?.tiers.host.length, 0);
  });

  it('keeps serving while Redis is down at start, and registers once it is up', async (t) => {
    if (!server.restartable) return t.skip('REDIS_URL is set: cannot restart an external server');
    const { reporter, admin, keys } = await setup(t);
    await server.kill();
    const started = Date.now();
    await reporter.start();
    assert.ok(Date.now() - started < 500, 'start does not wait for Redis');
    const keysWhileDown = randomKeys(12);
    reporter.publish([{ op: 'stored', tier: 'device', keys: keysWhileDown }]);
    await server.restart();
    await waitForRedis(admin, 5000);

    await until('registered and resynced', async () => {
      const snap = parseSnapshot('w0', await admin.hgetallBuffer(keys.snapshot('w0')));
      return (await admin.exists(keys.worker('w0'))) === 1 && snap?.tiers.device.length === 12;
    });
    const stored = (await events(admin, keys.events)).filter((e) => e.op === 'stored');
    assert.deepEqual(new Set(stored.flatMap((e) => [...e.keys])), new Set(keysWhileDown));
  });

  it('deregisters on stop, and stops promptly when Redis is unreachable', async (t) => {
    const { reporter, admin, keys } = await setup(t);
    await reporter.start();
    reporter.publish(new TreeEventSource().store(3));
    await reporter.stop();
    assert.deepEqual(await admin.smembers(keys.workers), []);
    assert.equal(await admin.exists(keys.worker('w0'), keys.snapshot('w0')), 0);
    assert.equal(
      (await events(admin, keys.events)).at(-1)?.op,
      'stored',
      'events published before stop are flushed',
    );

    const { reporter: cut, redis } = await setup(t);
    await cut.start();
    redis.disconnect();
    cut.publish(new TreeEventSource().store(3));
    const stopping = Date.now();
    await cut.stop();
    assert.ok(Date.now() - stopping < 500);
  });
});
