// Policies every scenario's objects must hold (kube-linter/kube-score style, for this chart): GPU
// requests and the GPU toleration only on workers, probes on real ports, non-root hardened
// containers, no secret in args or plain env, selectors that match, monitors on named ports that
// exist, a grace period that outlasts the drain, one autoscaler per Deployment, standard labels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type K8sObject, podSpec, renderObjects, SCENARIOS, scenarioValues } from './support/chart.ts';

const component = (o: K8sObject): string => o.metadata?.labels?.['app.kubernetes.io/component'] ?? '';
const isGpuResource = (name: string) => /(^nvidia\.com\/)|gpu/.test(name);
const isGpuToleration = (t: K8sObject) => t.key === 'nvidia.com/gpu';
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function containers(o: K8sObject): K8sObject[] {
  const spec = podSpec(o);
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => podSpec(o) !== undefined);
}

for (const scenario of SCENARIOS) {
  const objects = renderObjects({ values: scenarioValues(scenario) });
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const worker = deployments.find((d) => component(d) === 'worker');
  const workerEnv = (name: string) =>
    worker?.spec.template.spec.containers[0].env.find((e: K8sObject) => e.name === name)?.value;
  const gpuWorker = workerEnv('CHUNKMESH_DEVICE') !== 'cpu';

  test(`${scenario}: GPUs are requested by workers only, in limits`, () => {
    for (const o of workloads(objects)) {
      for (const c of containers(o)) {
        const requested = Object.keys({ ...c.resources?.limits, ...c.resources?.requests }).filter(
          isGpuResource,
        );
        if (component(o) === 'worker' && gpuWorker) {
          assert.equal(requested.length, 1, `${o.metadata.name} asks for one GPU resource`);
          assert.ok(c.resources.limits[requested[0] as string] >= 1, 'the GPU is in limits');
        } else {
          assert.deepEqual(requested, [], `${o.kind}/${o.metadata.name} requests no GPU`);
        }
      }
    }
  });

  test(`${scenario}: only GPU workers tolerate the GPU taint and require GPU nodes`, () => {
    for (const o of workloads(objects)) {
      const spec = podSpec(o) as K8sObject;
      const tolerates = (spec.tolerations ?? []).some(isGpuToleration);
      const gpuAffinity = JSON.stringify(spec.affinity ?? {}).includes('nodeSelectorTerms');
      const onGpuPool = component(o) === 'worker' && gpuWorker;
      assert.equal(tolerates, onGpuPool, `${o.kind}/${o.metadata.name} GPU toleration`);
      assert.equal(gpuAffinity, onGpuPool, `${o.kind}/${o.metadata.name} GPU node affinity`);
    }
  });

  test(`${scenario}: long-running containers have probes on ports they declare`, () => {
    for (const d of deployments) {
      for (const c of containers(d)) {
        const ports = new Map<string | number, number>();
        for (const p of c.ports ?? [])
          ports.set(p.name, p.containerPort).set(p.containerPort, p.containerPort);
        const probes = ['startupProbe', 'livenessProbe', 'readinessProbe'].filter((p) => c[p]);
        assert.ok(
          c.livenessProbe && c.readinessProbe,
          `${d.metadata.name}/${c.name} has liveness and readiness`,
        );
        if (component(d) !== 'redis')
          assert.equal(probes.length, 3, `${d.metadata.name}/${c.name} has a startup probe`);
        for (const name of probes) {
          const probe = c[name];
          const port = probe.grpc?.port ?? probe.httpGet?.port ?? probe.tcpSocket?.port;
          if (probe.exec) continue;
          if (probe.grpc) assert.equal(typeof port, 'number', 'gRPC probes take a port number');
          assert.ok(
            ports.has(port),
            `${d.metadata.name}/${c.name} ${name} probes port ${port}, which it declares`,
          );
        }
      }
    }
  });

  test(`${scenario}: pods run as non-root with hardened containers`, () => {
    for (const o of workloads(objects)) {
      const spec = podSpec(o) as K8sObject;
      assert.equal(spec.securityContext?.runAsNonRoot, true, `${o.metadata.name} runAsNonRoot`);
      assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
      assert.equal(spec.automountServiceAccountToken, false, `${o.metadata.name} mounts no API token`);
      for (const c of containers(o)) {
        const sc = c.securityContext ?? {};
        assert.equal(sc.allowPrivilegeEscalation, false, `${o.metadata.name}/${c.name}`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${o.metadata.name}/${c.name}`);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${o.metadata.name}/${c.name}`);
        assert.ok(c.resources?.limits?.memory, `${o.metadata.name}/${c.name} has a memory limit`);
        assert.ok(!String(c.image).endsWith(':latest'), `${c.image} is pinned`);
      }
    }
  });

  test(`${scenario}: no secret in args or plain env`, () => {
    const secretish = /PASSWORD|SECRET|(^|_)TOKEN$|API_KEYS?$/;
    for (const o of workloads(objects)) {
      for (const c of containers(o)) {
        for (const arg of [...(c.command ?? []), ...(c.args ?? [])]) {
          assert.doesNotMatch(
            String(arg),
            /:\/\/[^/\s]*:[^/\s]*@|--?(password|requirepass|api-key)/i,
            `${c.name} arg`,
          );
        }
        for (const e of c.env ?? []) {
          if (secretish.test(e.name))
            assert.ok(e.valueFrom?.secretKeyRef, `${c.name} ${e.name} comes from a Secret`);
          // a URL with credentials may only carry them as $(VAR) references to Secret-backed vars
          const creds = /:\/\/[^/@]*:([^/@]*)@/.exec(String(e.value ?? ''));
          if (creds)
            assert.match(creds[1] as string, /^\$\([A-Z_]+\)$/, `${c.name} ${e.name} embeds no password`);
        }
      }
    }
    assert.ok(
      !objects.some((o) => o.kind === 'Secret'),
      'the chart creates no Secret: it references existing ones',
    );
  });

  test(`${scenario}: selectors match the pods and Service ports exist on them`, () => {
    for (const d of deployments) {
      assert.ok(
        matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels),
        `${d.metadata.name} selector`,
      );
    }
    for (const s of objects.filter((o) => o.kind === 'Service')) {
      const backends = deployments.filter((d) => matches(s.spec.selector, d.spec.template.metadata.labels));
      assert.equal(backends.length, 1, `Service ${s.metadata.name} selects one Deployment`);
      const names = containers(backends[0] as K8sObject).flatMap((c) =>
        (c.ports ?? []).map((p: K8sObject) => p.name),
      );
      for (const p of s.spec.ports)
        assert.ok(names.includes(p.targetPort), `${s.metadata.name} targets ${p.targetPort}`);
    }
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
      const selected = deployments.filter((d) =>
        matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels),
      );
      assert.equal(selected.length, 1, `PDB ${pdb.metadata.name} selects one Deployment`);
    }
  });

  test(`${scenario}: monitors select real objects by port name`, () => {
    for (const sm of objects.filter((o) => o.kind === 'ServiceMonitor')) {
      const services = objects.filter(
        (o) => o.kind === 'Service' && matches(sm.spec.selector.matchLabels, o.metadata.labels),
      );
      assert.equal(services.length, 1, `ServiceMonitor ${sm.metadata.name} selects one Service`);
      for (const ep of sm.spec.endpoints) {
        assert.ok(
          services[0]?.spec.ports.some((p: K8sObject) => p.name === ep.port),
          `Service port ${ep.port}`,
        );
      }
    }
    for (const pm of objects.filter((o) => o.kind === 'PodMonitor')) {
      const pods = deployments.filter((d) =>
        matches(pm.spec.selector.matchLabels, d.spec.template.metadata.labels),
      );
      assert.equal(pods.length, 1, `PodMonitor ${pm.metadata.name} selects one Deployment`);
      const names = containers(pods[0] as K8sObject).flatMap((c) =>
        (c.ports ?? []).map((p: K8sObject) => p.name),
      );
      for (const ep of pm.spec.podMetricsEndpoints) assert.ok(names.includes(ep.port), `pod port ${ep.port}`);
    }
  });

  test(`${scenario}: the grace period outlasts preStop plus the drain`, () => {
    for (const d of deployments) {
      const spec = d.spec.template.spec;
      for (const c of spec.containers) {
        const preStop = c.lifecycle?.preStop?.exec?.command ?? [];
        const sleep = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
        const drainMs = Number(
          c.env?.find((e: K8sObject) => e.name === 'CHUNKMESH_SHUTDOWN_GRACE_MS')?.value ?? 0,
        );
        assert.ok(
          spec.terminationGracePeriodSeconds > sleep + drainMs / 1000,
          `${d.metadata.name}: ${spec.terminationGracePeriodSeconds} s > ${sleep} s preStop + ${drainMs / 1000} s drain`,
        );
      }
    }
  });

  test(`${scenario}: at most one autoscaler per Deployment, and none with fixed replicas`, () => {
    const scalers = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject');
    const targets = scalers.map((s) => `${s.spec.scaleTargetRef.kind}/${s.spec.scaleTargetRef.name}`);
    assert.equal(new Set(targets).size, targets.length, `targets: ${targets}`);
    for (const s of scalers) {
      const target = deployments.find((d) => d.metadata.name === s.spec.scaleTargetRef.name);
      assert.ok(target, `${s.kind} ${s.metadata.name} targets a Deployment of the release`);
      assert.equal(
        target.spec.replicas,
        undefined,
        `${target.metadata.name} leaves replicas to its autoscaler`,
      );
    }
  });

  test(`${scenario}: every object carries the standard labels`, () => {
    for (const o of objects) {
      for (const key of ['name', 'instance', 'component', 'part-of', 'version', 'managed-by']) {
        assert.ok(
          o.metadata.labels?.[`app.kubernetes.io/${key}`],
          `${o.kind}/${o.metadata.name} app.kubernetes.io/${key}`,
        );
      }
    }
  });
}
