#!/usr/bin/env node
// Finds every *.test.ts under the test roots and runs them with node's test
// runner (Node 20 takes no globs) on the TypeScript sources: through tsx, with
// the chunkmesh-source export condition so that packages import each other's
// sources, not their builds. Extra arguments filter files by substring.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = [
  'native/test',
  'services/common/test',
  'services/model/test',
  'services/worker/test',
  'services/router/test',
  'services/jobs/test',
  'services/cli/test',
  'test',
  'helm/test',
  'deploy/grafana/test',
];
const filters = process.argv.slice(2);
if (filters.includes('--help')) {
  console.log(
    `usage: npm test [-- SUBSTRING ...]\n  runs every *.test.ts under ${roots.join(', ')} (or those whose path contains a SUBSTRING)`,
  );
  process.exit(0);
}

function find(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(p).isDirectory()) return find(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}

const files = roots.flatMap(find).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const sourceArgs = ['--conditions=chunkmesh-source', '--import', 'tsx'];
const r = spawnSync(process.execPath, [...sourceArgs, '--test', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
