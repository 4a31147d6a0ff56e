// The chart's rules and the dashboards against a real Prometheus (Debian's package) scraping a
// real local cluster (Redis, two workers, a router, on loopback) under a short multi-tenant load:
// promtool accepts the rules, Prometheus evaluates every rule without error, and every dashboard
// query evaluates, with the hit-rate, KV-saved, TTFT and decision panels returning data.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  RedisServer,
  type RouterProcess,
  scrapeMetrics,
  startRouter,
  startWorker,
  uniqueCluster,
  type WorkerProcess,
  waitFor,
} from '@chunkmesh/test-support';
import { DASHBOARDS } from '../../deploy/grafana/dashboards.ts';
import { queries } from '../../deploy/grafana/panels.ts';
import { parsePromql, registeredSeries, substituteVariables } from '../../deploy/grafana/test/promql.ts';
import { find, renderObjects, scenarioValues } from '../../helm/test/support/chart.ts';
import { PrometheusServer } from './prometheus-server.ts';

const NAMESPACE = 'chunkmesh';
const LOAD_SECONDS = 20;
/** Panels the issue requires to show data after a short load. */
const MUST_HAVE_DATA = [
  'Prefix hit rate',
  'Hit rate, cluster',
  'Hit rate per worker',
  'Hit rate per tenant',
  'KV memory saved',
  'KV bytes saved',
  'KV memory saved, bytes',
  'KV memory saved, ratio',
  'TTFT p95',
  'Time to first token',
  'Decisions by reason',
];

/** The chart's PrometheusRule (monitoring-on scenario) as a Prometheus rules file. */
const rule = find(renderObjects({ values: scenarioValues('monitoring-on') }), 'PrometheusRule', 'monitoring');
const rules = { groups: rule.spec.groups };

const TENANT_PROMPTS = ['acme', 'globex', 'initech'].map((tenant) => ({
  tenant,
  system:
    `You are the ${tenant} helper. Once upon a time there was a little girl named Lily who loved to play in the park with her dog. One day she found a shiny red ball under a big tree and she was very happy. `.repeat(
      3,
    ),
}));

/**
 * Clients sending completions that share each tenant's long prompt prefix until the deadline: three per
 * tenant, long enough that requests of one tenant overlap on a worker (what the KV-saved panel shows).
 */
async function load(router: RouterProcess, clients: number, untilMs: number): Promise<number> {
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      for (let n = 0; Date.now() < untilMs; n++) {
        const t = TENANT_PROMPTS[(i + n) % TENANT_PROMPTS.length] as (typeof TENANT_PROMPTS)[number];
        const res = await fetch(`${router.baseUrl}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'stories260K',
            prompt: `${t.system}Question ${n} from client ${i}:`,
            max_tokens: 48,
            ignore_eos: true,
            tenant: t.tenant,
          }),
        });
        assert.equal(res.status, 200, await res.text());
        done++;
      }
    }),
  );
  return done;
}

describe('dashboards and rules on a real Prometheus', { timeout: 150_000 }, () => {
  let redis: RedisServer;
  const workers: WorkerProcess[] = [];
  let router: RouterProcess;
  let prometheus: PrometheusServer;
  let startS = 0;
  let endS = 0;

  before(async () => {
    redis = await RedisServer.start();
    const cluster = uniqueCluster('prometheus');
    for (let i = 0; i < 2; i++) {
      workers.push(await startWorker({ redisUrl: redis.url, cluster, env: { CHUNKMESH_THREADS: '1' } }));
    }
    router = await startRouter({ redisUrl: redis.url, cluster });
    await waitFor('the router to see both workers', async () => {
      return (await scrapeMetrics(router.metricsUrl)).value('chunkmesh_router_live_workers') === 2;
    });
    // the labels the Prometheus Operator puts on PodMonitor/ServiceMonitor targets
    prometheus = await PrometheusServer.start({
      rules,
      jobs: [
        {
          job: 'chunkmesh-worker',
          targets: workers.map((w, i) => ({
            address: `127.0.0.1:${w.metricsPort}`,
            labels: { namespace: NAMESPACE, pod: `cm-chunkmesh-worker-${i}` },
          })),
        },
        {
          job: 'chunkmesh-router',
          targets: [
            {
              address: `127.0.0.1:${router.opsPort}`,
              labels: { namespace: NAMESPACE, pod: 'cm-chunkmesh-router-0' },
            },
          ],
        },
      ],
    });
    startS = Date.now() / 1000;
    const requests = await load(router, 9, Date.now() + LOAD_SECONDS * 1000);
    assert.ok(requests > 20, `the load ran ${requests} requests`);
    await sleep(3000); // a few more scrapes and rule evaluations after the last request
    endS = Date.now() / 1000;
  });

  after(async () => {
    await prometheus?.stop();
    await router?.stop().catch(() => router.kill());
    await Promise.all(workers.map((w) => w.stop().catch(() => w.kill())));
    await redis?.stop();
  });

  test('promtool accepts the chart rules, and they name only registered metrics or recorded series', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'chunkmesh-rules-')), 'rules.yml');
    writeFileSync(file, JSON.stringify(rules));
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
    const registered = registeredSeries();
    for (const g of rules.groups) {
      for (const x of g.rules) {
        const { metrics, error } = parsePromql(x.expr);
        assert.equal(error, undefined, x.expr);
        for (const m of metrics)
          assert.ok(registered.has(m) || m.includes(':'), `${x.record ?? x.alert}: ${m}`);
      }
    }
  });

  test('Prometheus scraped every target and evaluates every rule without error', async () => {
    assert.deepEqual(await prometheus.downTargets(), []);
    const loaded = await prometheus.rules();
    assert.equal(loaded.length, rules.groups.flatMap((g: { rules: unknown[] }) => g.rules).length);
    for (const r of loaded) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
    const hitRatio = await prometheus.queryRange(
      `chunkmesh:prefix_cache_hit_ratio:rate5m{namespace="${NAMESPACE}"}`,
      startS,
      endS,
    );
    assert.ok(hitRatio.length > 0, 'the hit-ratio recording rule has data');
  });

  test('every dashboard query evaluates, and the required panels return data', async () => {
    const empty: string[] = [];
    for (const d of DASHBOARDS) {
      for (const { panel, expr } of queries(d)) {
        const series = await prometheus.queryRange(substituteVariables(expr, '5s'), startS, endS);
        const hasData = series.some((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
        if (!hasData && MUST_HAVE_DATA.includes(panel)) empty.push(`${d.uid} / ${panel}: ${expr}`);
      }
    }
    assert.deepEqual(empty, [], prometheus.describe());
  });

  test('per-tenant and per-worker panels split by their labels', async () => {
    const byTenant = await prometheus.queryRange(
      substituteVariables(
        'sum by (tenant) (rate(chunkmesh_router_prompt_tokens_total{namespace=~"$namespace"}[$__rate_interval]))',
        '5s',
      ),
      startS,
      endS,
    );
    assert.deepEqual(byTenant.map((s) => s.metric.tenant).sort(), ['acme', 'globex', 'initech']);
    const saved = await prometheus.queryRange('max_over_time(chunkmesh_kv_saved_bytes[1m])', endS, endS);
    const logical = await prometheus.queryRange('chunkmesh_kv_logical_bytes', startS, endS);
    assert.ok(
      saved.some((s) => Number(s.values[0]?.[1]) > 0),
      `sharing saved KV memory at some scrape (saved ${JSON.stringify(saved.map((s) => s.values))}, logical ${JSON.stringify(logical.map((s) => s.values.map(([, v]) => v)))})`,
    );
  });
});
