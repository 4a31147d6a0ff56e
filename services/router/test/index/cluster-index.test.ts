// KvReporter (worker side) and ClusterIndex (router side) against a real,
// private redis-server: the index must end up holding exactly the reporter's
// mirror of resident keys, whatever happened in between (cold starts, Redis
// crashing and coming back empty, partitions, restarts, trimming).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  clusterKeys,
  connectRedis,
  createLogger,
  KV_TIERS,
  levelFromEnv,
  waitForRedis,
} from '@chunkmesh/common';
import { CHUNK_KEY_FORMAT, type KvTier } from '@chunkmesh/native';
import {
  KvReporter,
  type KvReporterOptions,
  RedisServer,
  randomKeys,
  TreeEventSource,
} from '@chunkmesh/test-support';
import type { Redis } from 'ioredis';
import { ClusterIndex, type ClusterIndexOptions } from '../../src/index/cluster-index.ts';

/** A longestPrefix match: its chunks on the device, host and disk. */
function tiers(device: number, host = 0, disk = 0) {
  return { chunks: device + host + disk, device, host, disk };
}
/** The index's and, unless a test says otherwise, every reporter's. */
const CONSTANTS = { modelId: 'test-model', chunkTokens: 64 };
// Quiet unless CHUNKMESH_LOG_LEVEL asks otherwise.
const log = createLogger({}, { level: process.env.CHUNKMESH_LOG_LEVEL ? levelFromEnv() : 'silent' });

let server: RedisServer;
before(async () => {
  server = await RedisServer.start();
});
after(() => server.stop());

const cleanups = new WeakMap<TestContext, (() => unknown)[]>();

/** Runs fn when the test ends, in reverse order of deferral (t.after alone runs hooks first-in first-out). */
function defer(t: TestContext, fn: () => unknown): void {
  let stack = cleanups.get(t);
  if (!stack) {
    const fns: (() => unknown)[] = [];
    stack = fns;
    cleanups.set(t, fns);
    t.after(async () => {
      for (const f of fns.reverse()) await f();
    });
  }
  stack.push(fn);
}

/** A connection closed when the test ends. */
async function connect(t: TestContext): Promise<Redis> {
  const redis = connectRedis({ url: server.url, maxBackoffMs: 100 });
  defer(t, () => redis.disconnect());
  await waitForRedis(redis, 5000);
  return redis;
}

async function reporter(
  t: TestContext,
  cluster: string,
  workerId: string,
  extra: Partial<KvReporterOptions> = {},
): Promise<KvReporter> {
  const r = new KvReporter({
    redis: await connect(t),
    cluster,
    workerId,
    endpoint: `127.0.0.1:${50000 + workerId.length}`,
    ...CONSTANTS,
    kvDtype: 'f32',
    capacityChunks: 10_000,
    heartbeatIntervalMs: 50,
    heartbeatTtlMs: 300,
    flushDelayMs: 2,
    snapshotIntervalMs: 100,
    log: log.child({ workerId }),
    ...extra,
  });
  defer(t, () => r.stop());
  await r.start();
  return r;
}

async function index(
  t: TestContext,
  cluster: string,
  extra: Partial<ClusterIndexOptions> = {},
): Promise<ClusterIndex> {
  const ix = new ClusterIndex({
    redis: await connect(t),
    cluster,
    constants: CONSTANTS,
    pollIntervalMs: 50,
    blockMs: 100,
    snapshotRetryMs: 50,
    log: log.child({ index: randomUUID().slice(0, 4) }),
    ...extra,
  });
  defer(t, () => ix.stop());
  await ix.start();
  return ix;
}

/** The reporter's mirror in the index's form: key -> tier bitmask. */
function mirrorOf(r: KvReporter): Map<bigint, KvTier> {
  const out = new Map<bigint, KvTier>();
  for (const tier of KV_TIERS) for (const k of r.resident(tier)) out.set(k, tier);
  return out;
}

function sameEntries(a: ReadonlyMap<bigint, KvTier>, b: ReadonlyMap<bigint, KvTier>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

async function converges(ix: ClusterIndex, r: KvReporter, workerId: string, timeoutMs = 5000): Promise<void> {
  const worker = () => ix.workers().find((w) => w.workerId === workerId);
  await until(
    `the index holds ${workerId}'s mirror (${mirrorOf(r).size} keys; index has ${ix.entriesOf(workerId).size})`,
    () =>
      worker()?.epoch === r.epoch &&
      worker()?.synced === true &&
      sameEntries(ix.entriesOf(workerId), mirrorOf(r)),
    timeoutMs,
  );
}

function cluster(): string {
  return `t-${randomUUID().slice(0, 8)}`;
}

describe('cluster index fed by kv reporters', () => {
  it('bootstraps cold to the mirror, keeps up, and a later cold index converges too', async (t) => {
    const c = cluster();
    const tree = new TreeEventSource();
    const r = await reporter(t, c, 'w0');
    r.publish(tree.churn(20));
    await sleep(150); // past a snapshot, so the first index starts from one
    r.publish(tree.churn(10));
    const first = await index(t, c);
    await converges(first, r, 'w0');

    r.publish([...tree.churn(30), ...tree.clear('host'), ...tree.store(40, 'disk')]);
    await converges(first, r, 'w0');

    const second = await index(t, c);
    await converges(second, r, 'w0');
    assert.equal(first.stats().resyncs, 0, 'an undisturbed index never needs a resync');
  });

  it('bootstraps correctly while the worker keeps publishing', async (t) => {
    const c = cluster();
    const tree = new TreeEventSource();
    const r = await reporter(t, c, 'w0', { snapshotIntervalMs: 30 });
    let publishing = true;
    const load = (async () => {
      while (publishing) {
        r.publish(tree.churn(2));
        await sleep(3);
      }
    })();
    const indexes: ClusterIndex[] = [];
    for (let i = 0; i < 4; i++) {
      await sleep(40);
      indexes.push(await index(t, c));
    }
    publishing = false;
    await load;
    for (const ix of indexes) await converges(ix, r, 'w0');
  });

  it('answers longestPrefix per worker and stops at the first key nobody has', async (t) => {
    const c = cluster();
    const chain = randomKeys(6);
    const a = await reporter(t, c, 'a');
    const b = await reporter(t, c, 'b');
    const other = await reporter(t, c, 'other');
    a.publish([{ op: 'stored', tier: 'device', keys: chain.subarray(0, 4) }]);
    b.publish([{ op: 'stored', tier: 'host', keys: chain.subarray(0, 2) }]);
    other.publish([{ op: 'stored', tier: 'device', keys: randomKeys(3) }]);
    const ix = await index(t, c);
    await converges(ix, a, 'a');
    await converges(ix, b, 'b');

    assert.deepEqual(
      ix.longestPrefix(chain).toMap(),
      new Map([
        ['a', tiers(4)],
        ['b', tiers(0, 2)],
      ]),
    );
    assert.deepEqual(
      ix.longestPrefix(chain.subarray(0, 1)).toMap(),
      new Map([
        ['a', tiers(1)],
        ['b', tiers(0, 1)],
      ]),
    );
    assert.deepEqual(
      ix.longestPrefix(chain.subarray(1)).toMap(),
      new Map([
        ['a', tiers(3)],
        ['b', tiers(0, 1)],
      ]),
    );
    assert.deepEqual(ix.longestPrefix(randomKeys(3)).toMap(), new Map());
    assert.deepEqual(ix.longestPrefix(new BigUint64Array(0)).toMap(), new Map());

    // A placement guess counts until it expires, on top of what is confirmed.
    ix.speculate('other', chain, 150);
    ix.speculate('ghost', chain, 150);
    assert.deepEqual(
      ix.longestPrefix(chain).toMap(),
      new Map([
        ['a', tiers(4)],
        ['b', tiers(0, 2)],
        ['other', tiers(6)],
      ]),
    );
    ix.speculate('b', chain.subarray(2, 5), 150);
    assert.deepEqual(
      ix.longestPrefix(chain).toMap(),
      new Map([
        ['a', tiers(4)],
        ['b', tiers(3, 2)],
        ['other', tiers(6)],
      ]),
    );
    await sleep(200);
    assert.deepEqual(
      ix.longestPrefix(chain).toMap(),
      new Map([
        ['a', tiers(4)],
        ['b', tiers(0, 2)],
      ]),
    );

    b.publish([{ op: 'removed', tier: 'host', keys: chain.subarray(1, 2) }]);
    await converges(ix, b, 'b');
    assert.deepEqual(
      ix.longestPrefix(chain).toMap(),
      new Map([
        ['a', tiers(4)],
        ['b', tiers(0, 1)],
      ]),
    );
    assert.deepEqual(
      ix
        .workers()
        .map((w) => [w.workerId, ix.entriesOf(w.workerId).size])
        .sort(),
      [
        ['a', 4],
        ['b', 1],
        ['other', 3],
      ],
    );
  });

  it('stops placing on a worker at the registry read that shows it draining, keeping its entries', async (t) => {
    const c = cluster();
    const chain = randomKeys(3);
    const a = await reporter(t, c, 'a');
    const b = await reporter(t, c, 'b');
    a.publish([{ op: 'stored', tier: 'device', keys: chain }]);
    b.publish([{ op: 'stored', tier: 'device', keys: chain.subarray(0, 1) }]);
    const ix = await index(t, c);
    await converges(ix, a, 'a');
    await converges(ix, b, 'b');
    assert.deepEqual([...ix.longestPrefix(chain).toMap().keys()].sort(), ['a', 'b']);

    await a.markDraining();
    await until('the index reads a draining', () => !ix.workers().some((w) => w.workerId === 'a'));
    assert.deepEqual(
      ix.workers().map((w) => w.workerId),
      ['b'],
    );
    assert.deepEqual(ix.longestPrefix(chain).toMap(), new Map([['b', tiers(1)]]), 'never matched');
    ix.speculate('a', chain, 1000);
    assert.deepEqual(ix.longestPrefix(chain).toMap(), new Map([['b', tiers(1)]]), 'never speculated onto');
    // still registered and still indexed: it finishes its requests and reports them
    assert.ok(sameEntries(ix.entriesOf('a'), mirrorOf(a)));
  });

  it('bounds the entries it holds and says how many it dropped', async (t) => {
    const c = cluster();
    const r = await reporter(t, c, 'w0');
    const ix = await index(t, c, { maxEntries: 50 });
    r.publish([{ op: 'stored', tier: 'device', keys: randomKeys(80) }]);
    await until('the index is full', () => ix.stats().entries === 50 && ix.stats().droppedEntries === 30);
    for (const k of ix.entriesOf('w0').keys())
      assert.ok(r.resident('device').has(k), 'only real entries are kept');
  });

  it('resyncs after Redis crashes and comes back empty, with events published during the outage', async (t) => {
    if (!server.restartable) return t.skip('REDIS_URL is set: cannot restart an external server');
    const c = cluster();
    const tree = new TreeEventSource();
    const r = await reporter(t, c, 'w0');
    r.publish(tree.churn(10));
    const ix = await index(t, c);
    await converges(ix, r, 'w0');
    const resyncsBefore = r.stats().resyncs;

    await server.kill();
    r.publish(tree.churn(10));
    await sleep(100);
    r.publish([...tree.remove(30), ...tree.store(15, 'host')]);
    await server.restart();

    await until('the reporter resynced', () => r.stats().resyncs > resyncsBefore);
    await converges(ix, r, 'w0');
    const late = await index(t, c);
    await converges(late, r, 'w0');
  });

  it('keeps workers through a Redis restarted empty until their heartbeat lapses; a deregistered one goes at once', async (t) => {
    if (!server.restartable) return t.skip('REDIS_URL is set: cannot restart an external server');
    const c = cluster();
    const slow = { heartbeatIntervalMs: 100, heartbeatTtlMs: 2000 };
    const leaves = await reporter(t, c, 'leaves', slow);
    const ix = await index(t, c);
    await until('the index sees it', () => ix.workers().some((w) => w.workerId === 'leaves'));
    // Deregistered on the same Redis: gone at the next registry read, long before its 2 s TTL.
    const t0 = Date.now();
    await leaves.stop();
    await until('the deregistered worker is dropped', () => ix.workers().length === 0);
    assert.ok(Date.now() - t0 < 1500, `dropped after ${Date.now() - t0} ms`);

    const tree = new TreeEventSource();
    const rejoins = await reporter(t, c, 'rejoins', slow);
    const redis = await connect(t);
    await reporter(t, c, 'lost', { ...slow, redis });
    rejoins.publish(tree.store(12));
    await converges(ix, rejoins, 'rejoins');
    await until('the index sees both', () => ix.workers().length === 2);
    // 'lost' cannot come back (its connection is gone for good); Redis returns empty.
    redis.disconnect();
    await server.restart();
    await sleep(800);
    assert.deepEqual(
      ix
        .workers()
        .map((w) => w.workerId)
        .sort(),
      ['lost', 'rejoins'],
      'both kept while their leases run',
    );
    assert.equal(ix.entriesOf('rejoins').size, 12, 'with their chunks');
    await until('the lost worker is dropped once its lease lapses', () => ix.workers().length === 1, 5000);
    assert.equal(ix.workers()[0]?.workerId, 'rejoins');
    await converges(ix, rejoins, 'rejoins');
  });

  it('drops a worker whose heartbeat expires, and takes it back after it resyncs', async (t) => {
    const c = cluster();
    const tree = new TreeEventSource();
    const redis = await connect(t);
    const r = await reporter(t, c, 'w0', { redis, maxBacklogKeys: 100 });
    const stays = await reporter(t, c, 'w1');
    r.publish(tree.store(30));
    stays.publish(new TreeEventSource().store(10));
    const ix = await index(t, c);
    await converges(ix, r, 'w0');

    // A partition between this worker and Redis: the worker keeps serving (and its tree keeps changing).
    redis.disconnect();
    r.publish(tree.churn(10));
    await until('the index dropped w0', () => !ix.workers().some((w) => w.workerId === 'w0'));
    assert.equal(ix.entriesOf('w0').size, 0);
    assert.ok(
      !ix
        .longestPrefix(BigUint64Array.from(r.resident('device')))
        .toMap()
        .has('w0'),
    );
    assert.ok(r.stats().backlogOverflows > 0, 'the backlog hit its bound');
    await converges(ix, stays, 'w1');

    await redis.connect();
    await converges(ix, r, 'w0');
  });

  it('replaces a restarted worker’s entries with those of its new epoch', async (t) => {
    const c = cluster();
    const redis = await connect(t);
    const old = await reporter(t, c, 'w0', { redis });
    old.publish(new TreeEventSource().store(40));
    const ix = await index(t, c);
    await converges(ix, old, 'w0');

    // The process dies without deregistering; its replacement starts before the old entry expires
    // (and registers once it has: the entry is the old process's lease on the id).
    redis.disconnect();
    const next = await reporter(t, c, 'w0');
    assert.notEqual(next.epoch, old.epoch);
    next.publish(new TreeEventSource().store(25));
    await converges(ix, next, 'w0');
    const cold = await index(t, c);
    await converges(cold, next, 'w0');
  });

  it('recovers from the stream being trimmed past its position, for busy and quiet workers', async (t) => {
    const c = cluster();
    const busyTree = new TreeEventSource();
    const busy = await reporter(t, c, 'busy');
    const quiet = await reporter(t, c, 'quiet');
    busy.publish(busyTree.store(10));
    quiet.publish(new TreeEventSource().store(10));
    const ix = await index(t, c);
    await converges(ix, busy, 'busy');
    await converges(ix, quiet, 'quiet');

    // The router stalls while both workers change and the stream is trimmed under it.
    await ix.stop();
    busy.publish(busyTree.churn(5));
    quiet.publish(new TreeEventSource().store(12));
    await sleep(250); // flushed, and snapshots taken
    const admin = await connect(t);
    await admin.xtrim(clusterKeys(c).events, 'MAXLEN', 0);
    busy.publish(busyTree.churn(5));

    await ix.start();
    await converges(ix, busy, 'busy');
    await converges(ix, quiet, 'quiet');
    assert.ok(ix.stats().resyncs >= 2, 'both workers were resynchronised from snapshots');
  });
});

describe('cluster index: cluster constants and malformed registry entries', () => {
  it('never places on a worker whose chunk size or model id differs: listed, logged once, never matched', async (t) => {
    const c = cluster();
    const chain = randomKeys(5);
    const ok = await reporter(t, c, 'ok');
    const wrongChunk = await reporter(t, c, 'wrong-chunk', { chunkTokens: 32 });
    const wrongModel = await reporter(t, c, 'wrong-model', { modelId: 'other-model', kvDtype: 'bf16' });
    // The same keys from all three (a key space collision, as unlikely as it is): only ok's count.
    for (const r of [ok, wrongChunk, wrongModel])
      r.publish([{ op: 'stored', tier: 'device', keys: chain.subarray(0, r === ok ? 2 : 5) }]);
    const lines: string[] = [];
    const ix = await index(t, c, { log: createLogger({}, { level: 'warn', write: (l) => lines.push(l) }) });
    await converges(ix, ok, 'ok');
    await until('both incompatible workers are listed', () => ix.incompatibleWorkers().length === 2);
    await sleep(300); // several registry reads and heartbeats later: still listed, logged once each

    assert.deepEqual(
      ix.workers().map((w) => w.workerId),
      ['ok'],
    );
    const incompatible = ix.incompatibleWorkers().sort((a, b) => (a.workerId < b.workerId ? -1 : 1));
    assert.deepEqual(
      incompatible.map((w) => [
        w.workerId,
        w.epoch,
        w.chunkTokens,
        w.modelId,
        w.kvDtype,
        w.mismatches,
        w.reason,
      ]),
      [
        [
          'wrong-chunk',
          wrongChunk.epoch,
          32,
          'test-model',
          'f32',
          [{ reason: 'chunk_tokens', worker: 32, router: 64 }],
          "chunk size 32 differs from the router's 64",
        ],
        [
          'wrong-model',
          wrongModel.epoch,
          64,
          'other-model',
          'bf16',
          [{ reason: 'model_id', worker: 'other-model', router: 'test-model' }],
          'model id "other-model" differs from the router\'s "test-model"',
        ],
      ],
    );
    assert.deepEqual(ix.longestPrefix(chain).toMap(), new Map([['ok', tiers(2)]]));
    ix.speculate('wrong-chunk', chain, 60_000);
    assert.deepEqual(
      ix.longestPrefix(chain).toMap(),
      new Map([['ok', tiers(2)]]),
      'a speculation onto one is ignored',
    );
    assert.equal(ix.entriesOf('wrong-model').size, 0, 'its chunks are not held');
    assert.equal(ix.stats().entries, 2);

    const warnings = lines
      .map((l) => JSON.parse(l))
      .filter((l) => /cluster constants differ/.test(l.msg))
      .sort((a, b) => (a.workerId < b.workerId ? -1 : 1));
    assert.deepEqual(
      warnings.map((w) => [w.workerId, w.epoch, w.chunk_tokens, w.model_id]),
      [
        ['wrong-chunk', wrongChunk.epoch, { worker: 32, router: 64 }, undefined],
        ['wrong-model', wrongModel.epoch, undefined, { worker: 'other-model', router: 'test-model' }],
      ],
      'one line per worker epoch, with both values',
    );
  });

  it('never places on a worker of another chunk-key format: an entry from before the field reads as format 1', async (t) => {
    const c = cluster();
    const admin = await connect(t);
    const chain = randomKeys(3);
    const ok = await reporter(t, c, 'ok');
    ok.publish([{ op: 'stored', tier: 'device', keys: chain }]);
    // Registered once, then left alone: its entry loses the field, as a format-1 worker writes it.
    const old = await reporter(t, c, 'old', { heartbeatIntervalMs: 60_000, heartbeatTtlMs: 60_000 });
    old.publish([{ op: 'stored', tier: 'device', keys: chain }]);
    assert.equal(await admin.hget(clusterKeys(c).worker('old'), 'keyFormat'), String(CHUNK_KEY_FORMAT));
    await admin.hdel(clusterKeys(c).worker('old'), 'keyFormat');
    const ix = await index(t, c);
    await converges(ix, ok, 'ok');
    await until('the old worker is listed', () => ix.incompatibleWorkers().length === 1);
    const [w] = ix.incompatibleWorkers();
    assert.deepEqual(w?.mismatches, [{ reason: 'key_format', worker: 1, router: CHUNK_KEY_FORMAT }]);
    assert.equal(w?.reason, `chunk-key format 1 differs from the router's ${CHUNK_KEY_FORMAT}`);
    assert.deepEqual(
      ix.workers().map((x) => x.workerId),
      ['ok'],
    );
    assert.deepEqual(ix.longestPrefix(chain).toMap(), new Map([['ok', tiers(3)]]), 'its keys never match');
  });

  it('skips a malformed registry entry (garbled field, key of another type), counting and logging it once', async (t) => {
    const c = cluster();
    const keys = clusterKeys(c);
    const admin = await connect(t);
    const good = await reporter(t, c, 'good');
    good.publish(new TreeEventSource().store(5));
    // Registered once, then left alone (no heartbeat to rewrite it while the test garbles it).
    await reporter(t, c, 'garbled', { heartbeatIntervalMs: 60_000, heartbeatTtlMs: 60_000 });
    await admin.hset(keys.worker('garbled'), 'kvDtype', 'fp8');
    await admin.sadd(keys.workers, 'string-key');
    await admin.set(keys.worker('string-key'), 'not a hash');
    const lines: string[] = [];
    const ix = await index(t, c, { log: createLogger({}, { level: 'warn', write: (l) => lines.push(l) }) });
    await converges(ix, good, 'good');
    await sleep(300); // several registry reads
    assert.deepEqual(
      ix.workers().map((w) => w.workerId),
      ['good'],
      'the others are skipped, the good one read',
    );
    assert.equal(ix.stats().malformedValues, 2, 'counted once each');
    const skipped = lines.map((l) => JSON.parse(l)).filter((l) => /malformed registry value/.test(l.msg));
    assert.deepEqual(skipped.map((l) => l.key).sort(), [keys.worker('garbled'), keys.worker('string-key')]);
    assert.match(skipped.find((l) => l.key === keys.worker('garbled'))?.err, /kvDtype fp8 is not one of/);
    assert.match(skipped.find((l) => l.key === keys.worker('string-key'))?.err, /WRONGTYPE/);

    // Written right again (the next heartbeat), it is read again; garbled once more, counted again.
    await admin.hset(keys.worker('garbled'), 'kvDtype', 'f32');
    await until('the repaired entry is read', () => ix.workers().some((w) => w.workerId === 'garbled'));
    await admin.hdel(keys.worker('garbled'), 'load');
    await until('it is skipped again', () => !ix.workers().some((w) => w.workerId === 'garbled'));
    assert.equal(ix.stats().malformedValues, 3);
  });
});
