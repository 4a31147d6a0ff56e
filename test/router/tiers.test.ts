// Tier-weighted placement through real processes: three workers with host and
// disk tiers hold one prefix, on the device of one, in host memory of another
// and on disk of the third, driven there the way it happens in service (the
// prefix, then other prompts until eviction pushes it down), as the workers'
// events tell the index. A request with that prefix goes to the device holder;
// with it gone, to the host holder; with that one gone too, to the disk holder.
// The ids make a tie-break prefer the disk holder, then the host holder, so
// with equal tier weights (or a router that ignored tiers) the first two
// placements would go wrong.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectRedis, KV_TIERS, waitForRedis } from '@chunkmesh/common';
import type { KvTier } from '@chunkmesh/native';
import { chunkKeys } from '@chunkmesh/native';
import { ClusterIndex } from '@chunkmesh/router';
import { generate, type RouterProcess, waitFor } from '@chunkmesh/test-support';
import type { Redis } from 'ioredis';
import { CHUNK, Family, MODEL, routerMetric, TestCluster } from './cluster.ts';

// stories260K: 5 layers x K and V x 4 KV heads x 8 dims x f32 a token
const CHUNK_BYTES = 5 * 2 * 4 * 8 * 4 * CHUNK;
/** The prefix's full chunks. */
const PREFIX_CHUNKS = 5;
const DISK = 'tiers-a';
const HOST = 'tiers-b';
const DEVICE = 'tiers-c';

describe('tier-weighted placement on 3 tiered workers', { timeout: 120_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;
  let index: ClusterIndex;
  let conn: Redis;
  const dirs: string[] = [];
  const family = new Family(4242, PREFIX_CHUNKS);
  const prefixKeys = chunkKeys({ modelId: MODEL, chunkTokens: CHUNK, salt: '' }, family.prefix);
  let filler = 0;

  /** The tier of each of the prefix's chunks on the worker, as the index holds them ('-': not held). */
  function prefixTiers(workerId: string): (KvTier | '-')[] {
    const entries = index.entriesOf(workerId);
    return [...prefixKeys].map((k) => entries.get(k) ?? '-');
  }

  /** Runs a prompt on the worker itself (not through the router). */
  async function runOn(workerId: string, ids: number[]): Promise<void> {
    await generate(c.client(c.worker(workerId).address), {
      tokenIds: { ids },
      sampling: { maxTokens: 4, temperature: 0 },
    });
  }

  /**
   * Sends the worker prompts sharing nothing (7 chunks each) until the index shows the whole
   * prefix in `tier` there: eviction demotes the least recently used chunks, the prefix first.
   */
  async function pushDown(workerId: string, tier: KvTier): Promise<void> {
    for (let sent = 0; ; sent++) {
      const reached = await waitFor(
        `${workerId}: the prefix in ${tier}`,
        () => prefixTiers(workerId).every((t) => t === tier),
        1500,
        50,
      ).catch(() => false);
      if (reached) return;
      const now = prefixTiers(workerId);
      const deeper = now.filter((t) => t === '-' || KV_TIERS.indexOf(t) > KV_TIERS.indexOf(tier));
      assert.equal(deeper.length, 0, `${workerId}: the prefix went past ${tier}: ${now.join(' ')}`);
      assert.ok(sent < 12, `${workerId}: the prefix is still ${now.join(' ')} after ${sent} other prompts`);
      await runOn(workerId, new Family(7000 + filler++, 7).next());
    }
  }

  /** Waits until the router process's index holds as many entries per tier as the test's own. */
  async function routerCaughtUp(): Promise<void> {
    await waitFor('the router index to match the test index by tier', async () => {
      const want = index.stats().entriesByTier;
      for (const tier of KV_TIERS) {
        const got = await routerMetric(router, 'chunkmesh_router_index_tier_entries', { tier });
        if (got !== want[tier]) return false;
      }
      return true;
    });
  }

  /** A request of the family through the router: where it went and what it found there. */
  async function place(): Promise<[string, number]> {
    const r = await generate(c.client(router.address), {
      tokenIds: { ids: family.next() },
      sampling: { maxTokens: 4, temperature: 0 },
    });
    return [r.final.workerId, r.final.usage?.cachedPromptTokens ?? -1];
  }

  async function stopWorker(workerId: string): Promise<void> {
    await c.worker(workerId).kill();
    const live = c.workers.filter((w) => w.running).length;
    await waitFor(`router to see ${live} live workers`, async () => {
      return (await routerMetric(router, 'chunkmesh_router_live_workers')) === live;
    });
  }

  before(async () => {
    c = await TestCluster.start({ workers: 0, name: 'tiers' });
    for (const id of [DISK, HOST, DEVICE]) {
      const dir = mkdtempSync(join(tmpdir(), `chunkmesh-${id}-`));
      dirs.push(dir);
      const args = [
        // A device pool of 16 chunks, a host tier of 16, a disk tier of plenty; restore from disk always
        // (on this tiny model recomputing would often win, and the disk holder should find its prefix).
        ...['--kv-capacity-tokens', String(16 * CHUNK), '--kv-host-bytes', String(16 * CHUNK_BYTES)],
        ...['--kv-disk-dir', dir, '--kv-disk-bytes', String(64 << 20), '--kv-restore', 'always'],
      ];
      c.workers.push(await c.startWorker(args, id));
    }
    router = await c.startRouter();
    conn = connectRedis({ url: c.redis.url, maxBackoffMs: 100 });
    await waitForRedis(conn, 5000);
    index = new ClusterIndex({
      redis: conn,
      cluster: c.cluster,
      constants: { modelId: MODEL, chunkTokens: CHUNK },
      pollIntervalMs: 100,
    });
    await index.start();

    for (const id of [DISK, HOST, DEVICE]) {
      await runOn(id, family.next());
      await waitFor(`${id}: the prefix on the device`, () => prefixTiers(id).every((t) => t === 'device'));
    }
    await pushDown(HOST, 'host');
    await pushDown(DISK, 'disk');
    await pushDown(DEVICE, 'device');
    await routerCaughtUp();
  });

  after(async () => {
    await index?.stop();
    conn?.disconnect();
    await c?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('the device holder first, then the host holder, then the disk holder', async (t) => {
    t.diagnostic(
      `prefix tiers: ${[DISK, HOST, DEVICE].map((id) => `${id} ${prefixTiers(id).join(' ')}`).join('; ')}`,
    );
    const full = PREFIX_CHUNKS * CHUNK;
    assert.deepEqual(await place(), [DEVICE, full], 'the device holder, over the host and disk holders');

    await stopWorker(DEVICE);
    assert.deepEqual(await place(), [HOST, full], 'without it, the host holder (restored by a copy)');

    await stopWorker(HOST);
    assert.deepEqual(await place(), [DISK, full], 'without both, the disk holder (read back from disk)');
  });
});
