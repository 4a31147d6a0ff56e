// values.schema.json: itself a valid draft-07 schema, and it accepts values.yaml and every
// scenario as coalesced by the renderer (what Helm validates at install), and refuses typos,
// wrong types and unknown choices.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '@chunkmesh/test-support';
import { Ajv } from 'ajv';
import { isMap, parseDocument, type Scalar, type YAMLMap } from 'yaml';
import { CHART_DIR, type RenderOptions, renderText, SCENARIOS, scenarioValues } from './support/chart.ts';

const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

function errors(o: RenderOptions): string[] {
  const values = JSON.parse(renderText({ ...o, printValues: true }));
  if (validate(values)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

for (const scenario of SCENARIOS) {
  test(`${scenario}: the values pass the schema`, () => {
    assert.deepEqual(errors({ values: scenarioValues(scenario) }), []);
  });
}

test('a misspelt key is refused', () => {
  const e = errors({ set: { 'worker.replica': 3 } });
  assert.ok(
    e.some((m) => m.includes('/worker') && m.includes('replica')),
    e.join('\n'),
  );
});

test('wrong types and unknown choices are refused', () => {
  assert.ok(errors({ set: { 'worker.replicas': 'two' } }).some((m) => m.startsWith('/worker/replicas')));
  assert.ok(errors({ set: { 'worker.device': 'tpu' } }).some((m) => m.startsWith('/worker/device')));
  assert.ok(errors({ set: { 'worker.kvDtype': 'int8' } }).some((m) => m.startsWith('/worker/kvDtype')));
  assert.ok(errors({ set: { 'monitoring.podMonitor.interval': 'often' } }).length > 0);
  assert.ok(errors({ set: { 'router.image.digest': 'latest' } }).length > 0);
});

test('a removed required key is refused', () => {
  assert.ok(errors({ set: { 'worker.gpu.count': null } }).some((m) => m.includes('count')));
});

for (const example of ['gke-a100', 'eks-a100']) {
  test(`the README's ${example} example passes the schema and renders`, () => {
    const values = [join(REPO_ROOT, 'helm/examples', `${example}-values.yaml`)];
    assert.deepEqual(errors({ values }), []);
    assert.match(renderText({ values }), /kind: Deployment/);
  });
}

test('every key of values.yaml is documented with a "# --" comment (on it or on the value it belongs to)', () => {
  const undocumented: string[] = [];
  const walk = (map: YAMLMap, path: string) => {
    for (const [i, pair] of map.items.entries()) {
      const key = `${path}${String((pair.key as Scalar).value)}`;
      // the parser hangs the comment above a map's first key on the map itself
      const comment = (pair.key as Scalar).commentBefore ?? (i === 0 ? map.commentBefore : undefined);
      if (comment?.trimStart().startsWith('--')) continue;
      if (isMap(pair.value) && pair.value.items.length > 0) walk(pair.value, `${key}.`);
      else undocumented.push(key);
    }
  };
  walk(parseDocument(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')).contents as YAMLMap, '');
  assert.deepEqual(undocumented, []);
});
