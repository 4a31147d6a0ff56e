// Renders helm/chunkmesh with helm/render (Go, built here once per test process) and parses the
// result, for the chart's suites. Scenarios are the chart's ci/<name>-values.yaml files; golden
// renders of each live in helm/golden/<name>.yaml. Every render uses one release and namespace, and
// the API versions of a cluster with the Prometheus Operator and KEDA unless a test says otherwise.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@chunkmesh/test-support';
import { parseAllDocuments } from 'yaml';

export const CHART_DIR = join(REPO_ROOT, 'helm/chunkmesh');
export const GOLDEN_DIR = join(REPO_ROOT, 'helm/golden');
export const RELEASE = 'cm';
export const NAMESPACE = 'chunkmesh';
export const OPERATOR_APIS = 'monitoring.coreos.com/v1,keda.sh/v1alpha1';

/** The scenario names (ci/<name>-values.yaml), plus "default" for values.yaml alone. */
export const SCENARIOS = [
  'default',
  ...readdirSync(join(CHART_DIR, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .map((f) => f.slice(0, -'-values.yaml'.length))
    .sort(),
];

export function scenarioValues(name: string): string[] {
  return name === 'default' ? [] : [join(CHART_DIR, 'ci', `${name}-values.yaml`)];
}

export interface RenderOptions {
  /** Values files merged in order over values.yaml. */
  values?: string[];
  /** --set key=value (booleans, integers and null keep their type). */
  set?: Record<string, string | number | boolean | null>;
  /** --set-json key=JSON, for lists and objects. */
  setJson?: Record<string, unknown>;
  /** .Capabilities.APIVersions beyond the built-in ones; default OPERATOR_APIS. */
  apiVersions?: string;
  notes?: boolean;
  printValues?: boolean;
}

let binary: string | undefined;

/** Builds helm/render with Debian's Go and sprig (GOPATH mode), once per process. */
function renderer(): string {
  if (binary) return binary;
  const out = join(mkdtempSync(join(tmpdir(), 'helm-render-')), 'helm-render');
  const r = spawnSync('go', ['build', '-o', out, './helm/render'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode' },
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      `building helm/render failed (apt-get install golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev): ${r.error?.message ?? r.stderr}`,
    );
  }
  binary = out;
  return out;
}

export interface RenderResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function render(o: RenderOptions = {}): RenderResult {
  const args = [
    '--namespace',
    NAMESPACE,
    '--release',
    RELEASE,
    '--api-versions',
    o.apiVersions ?? OPERATOR_APIS,
  ];
  for (const f of o.values ?? []) args.push('-f', f);
  for (const [k, v] of Object.entries(o.set ?? {})) args.push('--set', `${k}=${v}`);
  for (const [k, v] of Object.entries(o.setJson ?? {})) args.push('--set-json', `${k}=${JSON.stringify(v)}`);
  if (o.notes) args.push('--notes');
  if (o.printValues) args.push('--print-values');
  const r = spawnSync(renderer(), [...args, CHART_DIR], { encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** The rendered text; throws with the renderer's message when the chart refuses the values. */
export function renderText(o: RenderOptions = {}): string {
  const r = render(o);
  if (r.status !== 0) throw new Error(`render failed: ${r.stderr}`);
  return r.stdout;
}

/** The renderer's error message for values the chart must refuse; throws when it renders. */
export function renderError(o: RenderOptions): string {
  const r = render(o);
  if (r.status === 0) throw new Error(`rendered, but a failure was expected (${JSON.stringify(o)})`);
  return r.stderr;
}

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects are walked as plain JSON
export type K8sObject = Record<string, any>;

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
    return d.toJS() as K8sObject;
  });
}

export function renderObjects(o: RenderOptions = {}): K8sObject[] {
  return parseObjects(renderText(o));
}

/** The object of a kind whose name ends with -<suffix> (e.g. 'worker'); throws when absent. */
export function find(objects: K8sObject[], kind: string, suffix: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && String(x.metadata?.name).endsWith(`-${suffix}`));
  if (!o)
    throw new Error(`no ${kind} named *-${suffix} in ${objects.map((x) => `${x.kind}/${x.metadata?.name}`)}`);
  return o;
}

/** The pod spec of a Deployment or a Pod. */
export function podSpec(o: K8sObject): K8sObject | undefined {
  if (o.kind === 'Pod') return o.spec;
  if (o.kind === 'Deployment' || o.kind === 'StatefulSet') return o.spec?.template?.spec;
  return undefined;
}
