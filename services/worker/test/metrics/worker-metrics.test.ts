// chunkmesh_kv_saved_bytes: logical minus live bytes, read at scrape time, never negative.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { WorkerMetrics } from '../../src/index.ts';

async function saved(stats: { logicalBytes: number; liveBytes: number }): Promise<number> {
  const registry = new Registry();
  new WorkerMetrics(registry, { stats: () => stats } as never);
  const metric = registry.getSingleMetric('chunkmesh_kv_saved_bytes');
  assert.ok(metric, 'chunkmesh_kv_saved_bytes is registered');
  return (await metric.get()).values[0]?.value ?? Number.NaN;
}

test('saved bytes are what sharing spares the live sequences', async () => {
  assert.equal(await saved({ logicalBytes: 10_000, liveBytes: 2_500 }), 7_500);
  assert.equal(await saved({ logicalBytes: 0, liveBytes: 0 }), 0);
});

test('saved bytes never go negative', async () => {
  assert.equal(await saved({ logicalBytes: 1_000, liveBytes: 1_200 }), 0);
});
