// index.reconcile end to end, with real processes: Redis, a worker with a
// host tier (so its tree holds keys on two tiers), the job runner with the
// reconcile scheduled. The worker's report in Redis is corrupted by hand
// (device keys taken out of its snapshot, a bogus host key put in, a bogus
// disk key stored by a forged event); the next scheduled run reports exactly
// those differences, the worker resyncs, and Redis then reads as the tree
// (WorkerControl.ResidentKeys) holds; the runs after it fix nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  clusterKeys,
  connectRedis,
  createGenerationClient,
  createWorkerControlClient,
  eventFields,
  KV_TIERS,
  parseEventFields,
  parseSnapshot,
  type ResidentKeysResponse,
  snapshotFields,
} from '@chunkmesh/common';
import { JobClient, type ReconcileResult, reportedTiers } from '@chunkmesh/jobs';
import {
  generate,
  type JobRunnerProcess,
  RedisServer,
  startJobRunner,
  startWorker,
  tokenRun,
  uniqueCluster,
  type WorkerProcess,
  waitFor,
} from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import type { Redis } from 'ioredis';

const CHUNK = 16;

/** The worker's tree, per tier, from its native cache. */
async function treeOf(worker: WorkerProcess): Promise<ResidentKeysResponse> {
  const client = createWorkerControlClient(worker.address);
  try {
    return await new Promise((resolve, reject) =>
      client.residentKeys({ resync: false }, new grpc.Metadata(), {}, (err, res) =>
        err || !res ? reject(err) : resolve(res),
      ),
    );
  } finally {
    client.close();
  }
}

type KvTier = (typeof KV_TIERS)[number];
type ByTier = Record<KvTier, string[]>;

function sortedTiers(t: { [T in KvTier]: Iterable<string | bigint> }): ByTier {
  const out = { device: [], host: [], disk: [] } as ByTier;
  for (const tier of KV_TIERS) out[tier] = [...t[tier]].map(String).sort();
  return out;
}

async function reported(redis: Redis, cluster: string, workerId: string, epoch: string): Promise<ByTier> {
  const tiers = await reportedTiers(redis, cluster, workerId, epoch);
  const out = { device: [], host: [], disk: [] } as ByTier;
  for (const [k, t] of tiers ?? []) out[t].push(String(k));
  for (const t of KV_TIERS) out[t].sort();
  return out;
}

describe('index.reconcile', { timeout: 180_000 }, () => {
  let redis: RedisServer;
  let registry: Redis;
  let jobs: JobClient;
  let runner: JobRunnerProcess | undefined;
  let worker: WorkerProcess;
  const cluster = uniqueCluster('reconcile');

  before(async () => {
    redis = await RedisServer.start();
    worker = await startWorker({
      redisUrl: redis.url,
      cluster,
      chunkTokens: CHUNK,
      // room for about two prompts on the device: the third pushes chunks down to the host tier
      args: [
        '--worker-id',
        'w0',
        '--kv-capacity-tokens',
        String(12 * CHUNK),
        '--kv-host-bytes',
        String(1 << 24),
      ],
    });
    registry = connectRedis({ url: redis.url, name: 'test/reconcile' });
    jobs = new JobClient({ redis: { url: redis.url }, registry, cluster });
  });
  after(async () => {
    await jobs?.close();
    registry?.disconnect();
    await Promise.all([runner, worker].map((p) => p?.kill()));
    await redis?.stop();
  });

  test('a corrupted report is repaired and reported; a clean one is left alone', async () => {
    const client = createGenerationClient(worker.address);
    try {
      for (let s = 1; s <= 3; s++)
        await generate(client, {
          tokenIds: { ids: tokenRun(s, 5 * CHUNK + 3) },
          sampling: { maxTokens: 1 },
        });
    } finally {
      client.close();
    }
    const tree = await treeOf(worker);
    const live = sortedTiers(tree);
    assert.ok(live.device.length >= 4 && live.host.length >= 2, `keys on two tiers: ${JSON.stringify(live)}`);
    // settled: Redis reads as the tree, and the worker's snapshot is as new as its last event (so
    // the worker has no reason to rewrite it, and nothing after it is replayed over the corruption)
    const keys = clusterKeys(cluster);
    await waitFor('the report to match the tree and the snapshot to be current', async () => {
      const r = await reported(registry, cluster, 'w0', tree.epoch);
      const snap = parseSnapshot('w0', await registry.hgetallBuffer(keys.snapshot('w0')));
      const last = (await registry.xrevrangeBuffer(keys.events, '+', '-', 'COUNT', 1))[0];
      const lastSeq = last ? parseEventFields(last[1]).seq : 0;
      return JSON.stringify(r) === JSON.stringify(live) && snap?.seq === lastSeq;
    });

    // corrupt: two device keys out of the snapshot, a bogus host key in it, a bogus disk key by event
    const snap = parseSnapshot('w0', await registry.hgetallBuffer(keys.snapshot('w0')));
    assert.ok(snap && snap.epoch === tree.epoch);
    const dropped = new Set(live.device.slice(0, 2));
    await registry.hset(
      keys.snapshot('w0'),
      snapshotFields({
        ...snap,
        tiers: {
          device: snap.tiers.device.filter((k) => !dropped.has(String(k))),
          host: BigUint64Array.from([...snap.tiers.host, 12345n]),
          disk: snap.tiers.disk,
        },
      }),
    );
    await registry.xadd(
      keys.events,
      '*',
      ...eventFields({
        worker: 'w0',
        epoch: tree.epoch,
        seq: snap.seq + 1_000_000,
        op: 'stored',
        tier: 'disk',
        keys: BigUint64Array.from([67890n]),
      }),
    );
    // the reader (what routers and jobs see) now disagrees with the tree
    const corrupted = await reported(registry, cluster, 'w0', tree.epoch);
    assert.deepEqual(corrupted, {
      device: live.device.filter((k) => !dropped.has(k)),
      host: [...live.host, '12345'].sort(),
      disk: ['67890'],
    });
    const missingDevice = 2;

    runner = await startJobRunner({
      redisUrl: redis.url,
      cluster,
      args: ['--reconcile-every-ms', '700', '--reconcile-settle-ms', '100'],
    });
    const runs = async () =>
      (await jobs.list(100))
        .filter((j) => j.name === 'index.reconcile' && j.state === 'completed')
        .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0))
        .map((j) => j.result as ReconcileResult);
    await waitFor('two reconcile runs', async () => (await runs()).length >= 2, 30_000);
    // a scheduled run is found by the id the list shows (as `chunkmesh jobs status --id` asks)
    const listed = (await jobs.list(100)).find((j) => j.name === 'index.reconcile');
    assert.equal((await jobs.get(listed?.id ?? ''))?.name, 'index.reconcile', `job ${listed?.id}`);
    const [first, second] = await runs();
    assert.deepEqual(first?.workers, [
      {
        workerId: 'w0',
        epoch: tree.epoch,
        missing: { device: missingDevice, host: 0, disk: 0 },
        stale: { device: 0, host: 1, disk: 1 },
        resynced: true,
      },
    ]);
    assert.equal(first?.fixed, missingDevice + 2);
    // Redis reads as the tree holds again, and the next run finds nothing to fix
    assert.deepEqual(await reported(registry, cluster, 'w0', tree.epoch), sortedTiers(await treeOf(worker)));
    assert.equal(second?.fixed, 0);
    assert.equal(second?.workers[0]?.resynced, false);

    const metrics = await (await fetch(runner.metricsUrl)).text();
    assert.match(
      metrics,
      new RegExp(
        `chunkmesh_reconcile_fixed_keys_total\\{tier="device",kind="missing"[^}]*\\} ${missingDevice}\\b`,
      ),
    );
    assert.match(metrics, /chunkmesh_reconcile_fixed_keys_total\{tier="disk",kind="stale"[^}]*\} 1\b/);
    assert.match(metrics, /chunkmesh_reconcile_resyncs_total(\{[^}]*\})? 1\b/);
  });
});
