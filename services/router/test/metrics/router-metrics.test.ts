// The router's per-tenant token counters keep a bounded label set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { RouterMetrics, TENANT_LABEL_LIMIT } from '../../src/index.ts';

const index = {
  workers: () => [],
  incompatibleWorkers: () => [],
  stats: () => ({ entries: 6, entriesByTier: { device: 3, host: 2, disk: 1 } }),
  eventLagMs: 0,
};

async function byTenant(registry: Registry, name: string): Promise<Map<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  assert.ok(metric, `${name} is registered`);
  return new Map(metric.values.map((v) => [String(v.labels.tenant), v.value]));
}

test('prompt, predicted and realised tokens are counted per tenant', async () => {
  const registry = new Registry();
  const m = new RouterMetrics(registry, index as never);
  m.completed('acme', 100, 64, 48);
  m.completed('acme', 50, 0, 16);
  m.completed('', 10, 0, 0);
  const prompt = await byTenant(registry, 'chunkmesh_router_prompt_tokens_total');
  assert.equal(prompt.get('acme'), 150);
  assert.equal(prompt.get('(none)'), 10);
  assert.equal((await byTenant(registry, 'chunkmesh_router_predicted_cached_tokens_total')).get('acme'), 64);
  assert.equal((await byTenant(registry, 'chunkmesh_router_realised_cached_tokens_total')).get('acme'), 64);
});

test('tenants past the limit share one label, and known tenants keep theirs', async () => {
  const registry = new Registry();
  const m = new RouterMetrics(registry, index as never);
  for (let i = 0; i < TENANT_LABEL_LIMIT + 20; i++) m.completed(`t${i}`, 1, 0, 0);
  m.completed('t0', 1, 0, 0);
  const prompt = await byTenant(registry, 'chunkmesh_router_prompt_tokens_total');
  assert.equal(prompt.size, TENANT_LABEL_LIMIT + 1);
  assert.equal(prompt.get('(other)'), 20);
  assert.equal(prompt.get('t0'), 2);
});

test('index entries are shown by tier', async () => {
  const registry = new Registry();
  new RouterMetrics(registry, index as never);
  const metric = (await registry.getMetricsAsJSON()).find(
    (m) => m.name === 'chunkmesh_router_index_tier_entries',
  );
  assert.ok(metric);
  assert.deepEqual(
    new Map(metric.values.map((v) => [String(v.labels.tier), v.value])),
    new Map([
      ['device', 3],
      ['host', 2],
      ['disk', 1],
    ]),
  );
});
