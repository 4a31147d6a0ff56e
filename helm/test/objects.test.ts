// Every object of every scenario against the Kubernetes API types: kubernetes-models' validators
// (types, required fields, enums, patterns; core kinds, the Prometheus Operator's and KEDA's
// CRDs), then unknown fields, which those validators let through (`spec.replica: 2` passes):
// TypeScript's excess-property check of each object typed as kubernetes-models' interface for
// its kind, in one in-memory program.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '@chunkmesh/test-support';
import ts from 'typescript';
import { type K8sObject, renderObjects, SCENARIOS, scenarioValues } from './support/chart.ts';

/** The kubernetes-models module of an object's apiVersion and kind. */
function modelModule(o: K8sObject): string {
  const [group] = String(o.apiVersion).split('/');
  const pkg =
    group === 'monitoring.coreos.com'
      ? '@kubernetes-models/prometheus-operator'
      : group === 'keda.sh'
        ? '@kubernetes-models/keda'
        : 'kubernetes-models';
  return `${pkg}/${o.apiVersion}/${o.kind}`;
}

const rendered = SCENARIOS.map((scenario) => ({
  scenario,
  objects: renderObjects({ values: scenarioValues(scenario) }),
}));

for (const { scenario, objects } of rendered) {
  test(`${scenario}: every object passes kubernetes-models validation`, async () => {
    for (const o of objects) {
      const module = await import(modelModule(o)).catch(() => undefined);
      assert.ok(module?.[o.kind], `no model for ${o.apiVersion} ${o.kind}`);
      assert.doesNotThrow(() => new module[o.kind](o).validate(), `${o.kind}/${o.metadata.name}`);
    }
  });
}

/** Type errors (unknown fields first among them) of objects assigned to their kinds' interfaces. */
function typeErrors(objects: { label: string; object: K8sObject }[]): string[] {
  const file = join(REPO_ROOT, '__rendered-objects__.ts');
  const lines = objects.flatMap(({ label, object }, i) => [
    `import type { I${object.kind} as T${i} } from '${modelModule(object)}';`,
    `// ${label}`,
    `export const o${i}: T${i} = ${JSON.stringify(object)};`,
  ]);
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists } = host;
  host.getSourceFile = (f, v) =>
    f === file ? ts.createSourceFile(f, source, v) : getSourceFile.call(host, f, v);
  host.fileExists = (f) => f === file || fileExists.call(host, f);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
    const label = lines[line - 1] ?? '';
    return `${label.replace('// ', '')}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

test('no object of any scenario has a field its kind does not define', () => {
  const objects = rendered.flatMap(({ scenario, objects }) =>
    objects.map((object) => ({ label: `${scenario} ${object.kind}/${object.metadata.name}`, object })),
  );
  assert.deepEqual(typeErrors(objects), []);
});

test('the unknown-field check catches a misspelt field', () => {
  const [deployment] = renderObjects().filter((o) => o.kind === 'Deployment');
  assert.ok(deployment);
  deployment.spec.replica = 2;
  const errors = typeErrors([{ label: 'broken', object: deployment }]);
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? '', /broken: .*'"?replica"?' does not exist in type 'IDeploymentSpec'/s);
});
