// The chat template's metrics read its render counts at scrape time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TemplateRenderStats } from '@chunkmesh/model';
import { Registry } from 'prom-client';
import { registerTemplateMetrics } from '../../src/metrics/template-metrics.ts';

test('renders by renderer and compiler faults, as counted when scraped', async () => {
  const registry = new Registry();
  const stats: TemplateRenderStats = { compiled: 0, interpreted: 0, compilerFaults: 0 };
  registerTemplateMetrics(registry, { renderStats: () => stats });
  const values = async () =>
    Object.fromEntries(
      (await registry.getMetricsAsJSON()).flatMap((m) =>
        m.values.map((v) => [`${m.name}${v.labels.renderer ? `/${v.labels.renderer}` : ''}`, v.value]),
      ),
    );
  stats.compiled = 7;
  stats.interpreted = 3;
  stats.compilerFaults = 1;
  assert.deepEqual(await values(), {
    'chunkmesh_router_chat_template_renders_total/compiled': 7,
    'chunkmesh_router_chat_template_renders_total/interpreter': 3,
    chunkmesh_router_chat_template_compiler_faults_total: 1,
  });
  stats.compiled = 9;
  assert.equal((await values())['chunkmesh_router_chat_template_renders_total/compiled'], 9);
});
