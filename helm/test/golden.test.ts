// Golden renders: every scenario renders exactly as checked in under helm/golden/ (reviewed like
// code; a chart change shows up as a diff of what Kubernetes would receive). UPDATE_GOLDEN=1
// rewrites them. NOTES.txt renders for every scenario too.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GOLDEN_DIR, renderText, SCENARIOS, scenarioValues } from './support/chart.ts';

for (const scenario of SCENARIOS) {
  test(`${scenario}: renders as helm/golden/${scenario}.yaml`, () => {
    const text = renderText({ values: scenarioValues(scenario) });
    const file = join(GOLDEN_DIR, `${scenario}.yaml`);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
    assert.ok(existsSync(file), `${file} is missing: run UPDATE_GOLDEN=1 npm test -- helm/test/golden`);
    assert.equal(
      text,
      readFileSync(file, 'utf8'),
      `the ${scenario} render changed: review, then UPDATE_GOLDEN=1`,
    );
  });

  test(`${scenario}: NOTES.txt renders`, () => {
    assert.match(renderText({ values: scenarioValues(scenario), notes: true }), /helm test cm -n chunkmesh/);
  });
}
