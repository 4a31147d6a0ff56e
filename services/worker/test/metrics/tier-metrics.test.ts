// Every tier metric of the worker (issue 10, item 6) read from a real registry
// while the engine runs stories260K over a cache with host and disk tiers: a
// conversation pushed down to disk, restored while it waits behind a long
// request (look-ahead), then its disk records damaged and recomputed. The IO
// error side (a disk that fails mid-run) is test/worker/kv-tiers.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { WorkerMetrics } from '../../src/metrics/worker-metrics.ts';
import { createWorkerRuntime } from '../../src/worker-runtime.ts';
import {
  CHUNK,
  CHUNK_BYTES,
  corrupt,
  input,
  other,
  pushDown,
  story,
  tieredRuntimeOptions,
  tokens,
} from '../engine/tiered-requests.ts';

describe('worker tier metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-tier-metrics-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shows bytes, chunks and capacity per tier, moves, hits by tier, restores and checksum failures', async () => {
    const registry = new Registry();
    const rt = await createWorkerRuntime({
      ...tieredRuntimeOptions(dir, { maxBatch: 1 }),
      observer: (cache) => new WorkerMetrics(registry, cache),
    });
    const value = async (name: string, labels: Record<string, string> = {}) => {
      const metric = registry.getSingleMetric(name);
      assert.ok(metric, `${name} is registered`);
      const values = (await metric.get()).values.filter(
        (v) =>
          Object.entries(labels).every(([k, x]) => v.labels[k] === x) &&
          // a histogram's count series stands for it
          (!('metricName' in v) || String(v.metricName).endsWith('_count')),
      );
      assert.ok(values.length > 0, `${name} ${JSON.stringify(labels)} has a value`);
      return values.reduce((n, v) => n + v.value, 0);
    };
    try {
      assert.equal(await value('chunkmesh_kv_tier_capacity_bytes', { tier: 'device' }), 12 * CHUNK_BYTES);
      assert.equal(await value('chunkmesh_kv_tier_capacity_bytes', { tier: 'host' }), 4 * CHUNK_BYTES);
      assert.ok((await value('chunkmesh_kv_tier_capacity_bytes', { tier: 'disk' })) > 0);
      assert.ok(
        (await value('chunkmesh_kv_disk_bandwidth_bytes_per_second', { op: 'read' })) > 0,
        'measured at start',
      );

      const conversation = await story(rt, 6 * CHUNK);
      await pushDown(rt, 4);
      for (const tier of ['device', 'host', 'disk']) {
        const chunks = await value('chunkmesh_kv_tier_chunks', { tier });
        assert.ok(chunks > 0, `chunks on ${tier}`);
        if (tier !== 'device')
          assert.equal(
            await value('chunkmesh_kv_tier_bytes', { tier }),
            chunks * CHUNK_BYTES,
            `bytes on ${tier}`,
          );
      }
      assert.ok((await value('chunkmesh_kv_demotions_total', { to: 'host' })) > 0);
      assert.ok((await value('chunkmesh_kv_demotions_total', { to: 'disk' })) > 0);

      // The returning turn waits behind a long request; the look-ahead restores its prefix meanwhile.
      const long = tokens(rt.engine.generate(input(other(99), 40)));
      await Promise.all([long, tokens(rt.engine.generate(input([...conversation, 13, 29, 7], 4)))]);
      assert.ok((await value('chunkmesh_prefix_cache_hit_tokens_by_tier_total', { tier: 'disk' })) > 0);
      assert.ok((await value('chunkmesh_kv_promotions_total', { to: 'host' })) > 0, 'read back from disk');
      assert.ok((await value('chunkmesh_kv_promotions_total', { to: 'device' })) > 0);
      assert.ok((await value('chunkmesh_kv_prefetched_tokens_total')) > 0);
      assert.ok((await value('chunkmesh_kv_restore_seconds')) >= 1, 'a restore timed');
      assert.ok((await value('chunkmesh_kv_restore_bytes_total')) >= CHUNK_BYTES);
      assert.ok((await value('chunkmesh_kv_restore_tokens_total', { outcome: 'restored' })) >= CHUNK);
      assert.equal(await value('chunkmesh_kv_disk_errors_total', { kind: 'checksum' }), 0);

      // Damage every disk record: the next return reads them, rejects them and recomputes.
      await pushDown(rt, 4, 10);
      corrupt(join(dir, 'chunks.kv'));
      await tokens(rt.engine.generate(input([...conversation, 5, 8], 4)));
      assert.ok((await value('chunkmesh_kv_disk_errors_total', { kind: 'checksum' })) > 0);
      assert.ok((await value('chunkmesh_kv_restore_tokens_total', { outcome: 'failed' })) > 0);
      assert.equal(await value('chunkmesh_kv_disk_errors_total', { kind: 'io' }), 0);
      assert.equal(
        await value('chunkmesh_kv_disk_failed'),
        0,
        'a damaged record is a miss, not a failed disk',
      );
    } finally {
      await rt.dispose();
    }
  });
});
