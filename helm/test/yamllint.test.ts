// yamllint (helm/lintconf.yaml) over the chart's plain YAML and every golden render: indentation,
// duplicate keys, truthy values, trailing spaces in what Kubernetes would receive.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '@chunkmesh/test-support';

function yamllint(...paths: string[]): { status: number | null; output: string } {
  const r = spawnSync('yamllint', ['-f', 'parsable', '-c', 'helm/lintconf.yaml', ...paths], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (r.error) throw new Error(`yamllint: ${r.error.message} (apt-get install yamllint)`);
  return { status: r.status, output: r.stdout + r.stderr };
}

test('the chart, its scenarios and the golden renders pass yamllint', () => {
  const r = yamllint(
    'helm/lintconf.yaml',
    'helm/chunkmesh/Chart.yaml',
    'helm/chunkmesh/values.yaml',
    'helm/chunkmesh/ci',
    'helm/golden',
  );
  assert.equal(r.status, 0, r.output);
});

test('yamllint is really looking: a duplicate key fails', () => {
  const r = spawnSync('yamllint', ['-c', join(REPO_ROOT, 'helm/lintconf.yaml'), '-'], {
    input: 'a: 1\na: 2\n',
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /duplication of key "a"/);
});
