// The dashboards: generated files current (the generator's --check), every expression valid
// PromQL naming only metrics the services register, the datasource always the datasource
// variable, uids and panel ids unique.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DASHBOARDS } from '../dashboards.ts';
import { stale } from '../generate.ts';
import { DATASOURCE, dashboardJson, queries } from '../panels.ts';
import { parsePromql, registeredSeries, substituteVariables } from './promql.ts';

test('the dashboard files are what the code generates', () => {
  assert.deepEqual(
    stale(),
    [],
    'run: node --conditions=chunkmesh-source --import tsx deploy/grafana/generate.ts',
  );
});

test('every query parses and names only registered metrics', () => {
  const registered = registeredSeries();
  assert.ok(registered.has('chunkmesh_kv_saved_bytes') && registered.has('chunkmesh_router_decisions_total'));
  for (const d of DASHBOARDS) {
    const json = JSON.stringify(dashboardJson(d));
    const variableQueries = [...json.matchAll(/"definition":"([^"]+)"/g)].map((m) => m[1] as string);
    for (const { panel, expr } of [
      ...queries(d),
      ...variableQueries.map((expr) => ({ panel: 'variable', expr })),
    ]) {
      const promql = expr.startsWith('label_values(')
        ? (/label_values\(([^,]+),/.exec(expr)?.[1] ?? '')
        : expr;
      const { metrics, error } = parsePromql(substituteVariables(promql));
      assert.equal(error, undefined, `${d.uid} / ${panel}: ${expr}`);
      assert.ok(metrics.length > 0, `${d.uid} / ${panel} selects a metric`);
      for (const m of metrics)
        assert.ok(registered.has(m), `${d.uid} / ${panel}: ${m} is not registered by the services`);
    }
  }
});

test('a broken expression and an unknown metric are caught', () => {
  assert.ok(parsePromql('sum(rate(chunkmesh_queue_depth[1m])').error);
  assert.deepEqual(parsePromql('sum(chunkmesh_no_such_thing)').metrics, ['chunkmesh_no_such_thing']);
  assert.ok(!registeredSeries().has('chunkmesh_no_such_thing'));
});

test('every panel and target uses the datasource variable; uids and panel ids are unique', () => {
  assert.equal(DATASOURCE.uid, ['$', '{datasource}'].join(''));
  const uids = DASHBOARDS.map((d) => d.uid);
  assert.equal(new Set(uids).size, uids.length);
  for (const d of DASHBOARDS) {
    const json = dashboardJson(d) as {
      panels: { id: number; type: string; datasource?: object; targets?: { datasource: object }[] }[];
    };
    const ids = json.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${d.uid} panel ids`);
    for (const p of json.panels.filter((x) => x.type !== 'row')) {
      assert.deepEqual(p.datasource, DATASOURCE);
      for (const t of p.targets ?? []) assert.deepEqual(t.datasource, DATASOURCE);
    }
  }
});
