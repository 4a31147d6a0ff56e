// Writes the dashboards as JSON into the chart (helm/chunkmesh/dashboards/<uid>.json), where the
// chart's ConfigMaps load them and from where they are imported by hand. --check writes nothing and
// fails when a file differs from what the code generates (CI runs it through the dashboard test).
//
//   node --conditions=chunkmesh-source --import tsx deploy/grafana/generate.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@chunkmesh/test-support';
import { DASHBOARDS } from './dashboards.ts';
import { dashboardJson } from './panels.ts';

export const DASHBOARD_DIR = join(REPO_ROOT, 'helm/chunkmesh/dashboards');

/** Each dashboard's file and the text the code generates for it. */
export function generated(): { file: string; text: string }[] {
  return DASHBOARDS.map((d) => ({
    file: join(DASHBOARD_DIR, `${d.uid}.json`),
    text: `${JSON.stringify(dashboardJson(d), null, 2)}\n`,
  }));
}

/** Files whose contents differ from what the code generates. */
export function stale(): string[] {
  return generated()
    .filter(({ file, text }) => {
      try {
        return readFileSync(file, 'utf8') !== text;
      } catch {
        return true;
      }
    })
    .map(({ file }) => file);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--check')) {
    const files = stale();
    if (files.length > 0) {
      process.stderr.write(`stale dashboards (run deploy/grafana/generate.ts): ${files.join(', ')}\n`);
      process.exit(1);
    }
  } else {
    for (const { file, text } of generated()) writeFileSync(file, text);
  }
}
