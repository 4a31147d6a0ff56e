// Unit tests of the chart: render with overrides and assert the fields they control, and the
// messages _validations.tpl fails with.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { find, type K8sObject, renderError, renderObjects, renderText } from './support/chart.ts';

const workerOf = (objects: K8sObject[]) => find(objects, 'Deployment', 'worker');
const container = (d: K8sObject) => d.spec.template.spec.containers[0];
const env = (d: K8sObject, name: string) => container(d).env.find((e: K8sObject) => e.name === name);

describe('worker scheduling', () => {
  test('device=cpu: CPU image, no GPU, no toleration, no GPU affinity', () => {
    const w = workerOf(renderObjects({ set: { 'worker.device': 'cpu' } }));
    assert.match(container(w).image, /^chunkmesh\/worker-cpu:/);
    assert.equal(env(w, 'CHUNKMESH_DEVICE').value, 'cpu');
    assert.deepEqual(Object.keys(container(w).resources.limits), ['cpu', 'memory']);
    assert.equal(w.spec.template.spec.tolerations, undefined);
    assert.equal(w.spec.template.spec.affinity, undefined);
  });

  test('a MIG profile and a GPU count go to limits', () => {
    const w = workerOf(
      renderObjects({ set: { 'worker.gpu.resourceName': 'nvidia.com/mig-1g.10gb', 'worker.gpu.count': 2 } }),
    );
    assert.equal(container(w).resources.limits['nvidia.com/mig-1g.10gb'], 2);
    assert.equal(container(w).resources.requests['nvidia.com/mig-1g.10gb'], undefined);
  });

  test('the GPU node expression joins every user node-selector term (terms are ORed)', () => {
    const terms = [
      { matchExpressions: [{ key: 'pool', operator: 'In', values: ['a'] }] },
      { matchExpressions: [{ key: 'pool', operator: 'In', values: ['b'] }] },
    ];
    const w = workerOf(
      renderObjects({
        setJson: {
          'worker.affinity': {
            nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
          },
        },
        set: { 'worker.gpu.nodeAffinity.labelKey': 'cloud.google.com/gke-accelerator' },
      }),
    );
    const rendered =
      w.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
        .nodeSelectorTerms;
    assert.equal(rendered.length, 2);
    for (const t of rendered) {
      assert.equal(t.matchExpressions.length, 2);
      assert.equal(t.matchExpressions[1].key, 'cloud.google.com/gke-accelerator');
    }
  });

  test('user tolerations are kept and the GPU toleration added; it can be turned off', () => {
    const own = { key: 'dedicated', operator: 'Equal', value: 'llm', effect: 'NoSchedule' };
    const w = workerOf(renderObjects({ setJson: { 'worker.tolerations': [own] } }));
    assert.deepEqual(w.spec.template.spec.tolerations, [
      own,
      { effect: 'NoSchedule', key: 'nvidia.com/gpu', operator: 'Exists' },
    ]);
    const off = workerOf(renderObjects({ set: { 'worker.gpu.toleration': false } }));
    assert.equal(off.spec.template.spec.tolerations, undefined);
  });

  test('runtimeClassName, /dev/shm as memory, advertise from the pod IP', () => {
    const w = workerOf(
      renderObjects({ set: { 'worker.runtimeClassName': 'nvidia', 'worker.shmSizeLimit': '8Gi' } }),
    );
    assert.equal(w.spec.template.spec.runtimeClassName, 'nvidia');
    const shm = w.spec.template.spec.volumes.find((v: K8sObject) => v.name === 'shm');
    assert.deepEqual(shm.emptyDir, { medium: 'Memory', sizeLimit: '8Gi' });
    assert.equal(env(w, 'CHUNKMESH_ADVERTISE').value, '$(POD_IP):50061');
    assert.equal(env(w, 'POD_IP').valueFrom.fieldRef.fieldPath, 'status.podIP');
  });

  test('threads follow the CPU limit unless set', () => {
    assert.equal(
      env(workerOf(renderObjects()), 'CHUNKMESH_THREADS').valueFrom.resourceFieldRef.resource,
      'limits.cpu',
    );
    assert.equal(
      env(workerOf(renderObjects({ set: { 'worker.threads': 6 } })), 'CHUNKMESH_THREADS').value,
      '6',
    );
  });

  test('images: global registry, tag from appVersion, digest over tag', () => {
    const objects = renderObjects({
      set: {
        'global.imageRegistry': 'registry.example/ml',
        'router.image.digest': `sha256:${'a'.repeat(64)}`,
      },
    });
    assert.equal(container(workerOf(objects)).image, 'registry.example/ml/chunkmesh/worker-cuda:0.1.0');
    assert.equal(
      container(find(objects, 'Deployment', 'router')).image,
      `registry.example/ml/chunkmesh/router@sha256:${'a'.repeat(64)}`,
    );
  });
});

describe('drain', () => {
  test('preStop sleeps by default and runs drainCommand when given', () => {
    assert.deepEqual(container(workerOf(renderObjects())).lifecycle.preStop.exec.command, ['sleep', '5']);
    const w = workerOf(
      renderObjects({
        setJson: { 'worker.preStop.drainCommand': ['chunkmesh', 'drain'] },
        set: { 'worker.terminationGracePeriodSeconds': 120 },
      }),
    );
    assert.deepEqual(container(w).lifecycle.preStop.exec.command, ['chunkmesh', 'drain']);
    assert.equal(env(w, 'CHUNKMESH_SHUTDOWN_GRACE_MS').value, '30000');
  });

  test('a grace period shorter than preStop + drain + teardown is refused', () => {
    assert.match(
      renderError({ set: { 'worker.terminationGracePeriodSeconds': 40 } }),
      /worker.terminationGracePeriodSeconds \(40\) must exceed the preStop time \(5\) \+ worker.shutdownGraceSeconds \(30\) \+ worker.teardownSeconds \(10\) = 45/,
    );
    // with a drainCommand its timeout counts instead of the sleep
    assert.match(
      renderError({ setJson: { 'worker.preStop.drainCommand': ['drain'] } }),
      /the preStop time \(60\)/,
    );
    assert.match(
      renderError({ set: { 'router.terminationGracePeriodSeconds': 10 } }),
      /router.terminationGracePeriodSeconds \(10\) must exceed/,
    );
    assert.match(
      renderError({ set: { 'worker.probes.liveness.failureThreshold': 3 } }),
      /liveness probe gives up after 30 s .* within the drain \(worker.shutdownGraceSeconds 30 \+ worker.teardownSeconds 10\)/,
    );
  });
});

describe('scaling and disruption', () => {
  test('router HPA, worker KEDA with the query rendered for the release', () => {
    const objects = renderObjects({
      set: { 'router.autoscaling.enabled': true, 'worker.keda.enabled': true },
    });
    assert.equal(
      find(objects, 'HorizontalPodAutoscaler', 'router').spec.scaleTargetRef.name,
      'cm-chunkmesh-router',
    );
    const so = find(objects, 'ScaledObject', 'worker');
    assert.equal(
      so.spec.triggers[0].metadata.query,
      'sum(max by (worker) (chunkmesh_router_worker_pending_tokens{namespace="chunkmesh"}))',
    );
    assert.equal(find(objects, 'Deployment', 'worker').spec.replicas, undefined);
  });

  test('HPA and KEDA on one Deployment are refused', () => {
    assert.match(
      renderError({ set: { 'worker.autoscaling.enabled': true, 'worker.keda.enabled': true } }),
      /worker.autoscaling.enabled and worker.keda.enabled are both true/,
    );
  });

  test('KEDA and monitoring objects need their APIs unless requireCRDs is off', () => {
    assert.match(
      renderError({ set: { 'worker.keda.enabled': true }, apiVersions: '' }),
      /needs KEDA \(keda.sh\/v1alpha1\)/,
    );
    assert.match(
      renderError({ set: { 'monitoring.podMonitor.enabled': true }, apiVersions: '' }),
      /need the Prometheus Operator CRDs \(monitoring.coreos.com\/v1\)/,
    );
    assert.ok(
      renderText({
        set: { 'monitoring.podMonitor.enabled': true, 'monitoring.requireCRDs': false },
        apiVersions: '',
      }),
    );
  });

  test('PDBs: router minAvailable, worker maxUnavailable, each behind its flag', () => {
    const objects = renderObjects();
    assert.equal(find(objects, 'PodDisruptionBudget', 'router').spec.minAvailable, 1);
    assert.equal(find(objects, 'PodDisruptionBudget', 'worker').spec.maxUnavailable, 1);
    const none = renderObjects({ set: { 'router.pdb.enabled': false, 'worker.pdb.enabled': false } });
    assert.ok(!none.some((o) => o.kind === 'PodDisruptionBudget'));
  });
});

describe('redis and secrets', () => {
  const external = { 'redis.mode': 'external', 'redis.external.url': 'redis://redis.example:6379' };

  test('external Redis: the password comes from its Secret, referenced by the URL, declared before it', () => {
    const objects = renderObjects({ set: { ...external, 'redis.external.existingSecret': 'redis-auth' } });
    assert.ok(!objects.some((o) => o.metadata.name.endsWith('-redis')), 'no bundled Redis');
    const names = container(workerOf(objects)).env.map((e: K8sObject) => e.name);
    assert.ok(names.indexOf('REDIS_PASSWORD') < names.indexOf('CHUNKMESH_REDIS_URL'));
    assert.deepEqual(env(workerOf(objects), 'REDIS_PASSWORD').valueFrom.secretKeyRef, {
      name: 'redis-auth',
      key: 'password',
    });
    assert.equal(
      env(workerOf(objects), 'CHUNKMESH_REDIS_URL').value,
      'redis://:$(REDIS_PASSWORD)@redis.example:6379',
    );
  });

  test('external Redis values that cannot work are refused with what to change', () => {
    assert.match(renderError({ set: { 'redis.mode': 'external' } }), /set redis.external.url/);
    assert.match(
      renderError({ set: { ...external, 'redis.external.url': 'redis://:hunter2@redis.example:6379' } }),
      /without a password.*redis.external.existingSecret/,
    );
    assert.match(
      renderError({ set: { ...external, 'redis.external.tls.caSecret': 'ca' } }),
      /not rediss:\/\//,
    );
  });

  test('external Redis: an ACL user, a CA and a client certificate for rediss://', () => {
    const objects = renderObjects({
      set: {
        ...external,
        'redis.external.url': 'rediss://redis.example:6380',
        'redis.external.username': 'chunkmesh',
        'redis.external.existingSecret': 'redis-auth',
        'redis.external.tls.caSecret': 'redis-ca',
        'redis.external.tls.clientSecret': 'redis-client',
      },
    });
    for (const d of [workerOf(objects), find(objects, 'Deployment', 'router')]) {
      assert.equal(
        env(d, 'CHUNKMESH_REDIS_URL').value,
        'rediss://chunkmesh:$(REDIS_PASSWORD)@redis.example:6380',
      );
      assert.equal(env(d, 'CHUNKMESH_REDIS_TLS_CA_FILE').value, '/etc/chunkmesh/redis-ca/ca.crt');
      assert.equal(env(d, 'CHUNKMESH_REDIS_TLS_CERT_FILE').value, '/etc/chunkmesh/redis-client/tls.crt');
      assert.equal(env(d, 'CHUNKMESH_REDIS_TLS_KEY_FILE').value, '/etc/chunkmesh/redis-client/tls.key');
      const mounted = container(d).volumeMounts.map((m: K8sObject) => m.mountPath);
      assert.ok(mounted.includes('/etc/chunkmesh/redis-client'));
      const secrets = d.spec.template.spec.volumes
        .filter((v: K8sObject) => v.secret)
        .map((v: K8sObject) => v.secret.secretName);
      assert.ok(secrets.includes('redis-ca') && secrets.includes('redis-client'));
    }
    assert.match(
      renderError({ set: { ...external, 'redis.external.username': 'chunkmesh' } }),
      /redis.external.username needs its password/,
    );
    assert.match(
      renderError({ set: { ...external, 'redis.external.tls.clientSecret': 'c' } }),
      /not rediss:\/\//,
    );
  });

  test('API keys and TLS come from existing Secrets as mounted files, off by default; the helm test uses them', () => {
    const plain = renderObjects();
    assert.equal(env(find(plain, 'Deployment', 'router'), 'CHUNKMESH_API_KEYS_FILE'), undefined);
    assert.equal(env(find(plain, 'Deployment', 'router'), 'CHUNKMESH_MODE').value, 'development');
    const objects = renderObjects({
      set: {
        'router.apiKeys.existingSecret': 'keys',
        'router.tls.existingSecret': 'tls',
        'tests.apiKeySecret': 'test-key',
      },
    });
    const r = find(objects, 'Deployment', 'router');
    assert.equal(env(r, 'CHUNKMESH_API_KEYS_FILE').value, '/etc/chunkmesh/api-keys/api-keys');
    assert.equal(env(r, 'CHUNKMESH_TLS_CERT_FILE').value, '/etc/chunkmesh/tls/tls.crt');
    const secrets = r.spec.template.spec.volumes
      .filter((v: K8sObject) => v.secret)
      .map((v: K8sObject) => v.secret.secretName);
    assert.deepEqual(secrets, ['keys', 'tls']);
    const probe = find(objects, 'Pod', 'test').spec;
    const probeEnv = (name: string) => probe.containers[0].env.find((e: K8sObject) => e.name === name);
    assert.equal(probeEnv('ROUTER_URL').value, 'https://cm-chunkmesh-router:8080');
    assert.deepEqual(probeEnv('API_KEY').valueFrom.secretKeyRef, { name: 'test-key', key: 'api-key' });
    assert.equal(probeEnv('NODE_EXTRA_CA_CERTS').value, '/etc/chunkmesh/tls/ca.crt');
    assert.deepEqual(probe.volumes, [{ name: 'tls', secret: { secretName: 'tls' } }]);
    assert.match(
      renderError({ set: { 'router.apiKeys.existingSecret': 'keys' } }),
      /the helm test needs a key: name a Secret holding one in tests.apiKeySecret/,
    );
  });

  test('the ops port is on its own ClusterIP Service, which the ServiceMonitor scrapes, never on the public one', () => {
    const objects = renderObjects({
      set: { 'router.service.type': 'LoadBalancer', 'monitoring.serviceMonitor.enabled': true },
    });
    const ports = (name: string) => find(objects, 'Service', name).spec.ports.map((p: K8sObject) => p.name);
    assert.deepEqual(ports('router'), ['grpc', 'http']);
    assert.equal(find(objects, 'Service', 'router').spec.type, 'LoadBalancer');
    assert.deepEqual(ports('router-ops'), ['ops']);
    assert.equal(find(objects, 'Service', 'router-ops').spec.type, 'ClusterIP');
    const sm = find(objects, 'ServiceMonitor', 'router');
    assert.equal(sm.spec.selector.matchLabels['app.kubernetes.io/component'], 'router-ops');
    assert.deepEqual(
      sm.spec.endpoints.map((e: K8sObject) => e.port),
      ['ops'],
    );
    const r = find(objects, 'Deployment', 'router');
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
      assert.equal(container(r)[probe].httpGet.port, 'ops', probe);
  });

  test('mutual TLS: routers and workers mount their cluster certificate; production needs every protection', () => {
    const volumes = {
      'router.clusterTls.volume': { secret: { secretName: 'router-cluster-tls' } },
      'worker.clusterTls.volume': {
        csi: {
          driver: 'csi.cert-manager.io',
          readOnly: true,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the csi-driver's own placeholder for the pod name
          volumeAttributes: { 'csi.cert-manager.io/dns-names': '${POD_NAME}' },
        },
      },
    };
    const objects = renderObjects({
      set: { 'global.clusterTls.enabled': true, 'jobs.enabled': true },
      setJson: volumes,
    });
    for (const [name, source] of [
      ['router', volumes['router.clusterTls.volume']],
      ['worker', volumes['worker.clusterTls.volume']],
      // the job runner calls workers as routers do, with the routers' certificate
      ['jobs', volumes['router.clusterTls.volume']],
    ] as const) {
      const d = find(objects, 'Deployment', name);
      assert.equal(env(d, 'CHUNKMESH_CLUSTER_CA_FILE').value, '/etc/chunkmesh/cluster-tls/ca.crt');
      assert.equal(env(d, 'CHUNKMESH_CLUSTER_CERT_FILE').value, '/etc/chunkmesh/cluster-tls/tls.crt');
      assert.equal(env(d, 'CHUNKMESH_CLUSTER_KEY_FILE').value, '/etc/chunkmesh/cluster-tls/tls.key');
      const volume = d.spec.template.spec.volumes.find((v: K8sObject) => v.name === 'cluster-tls');
      assert.deepEqual({ ...volume, name: undefined }, { ...source, name: undefined });
      assert.ok(container(d).volumeMounts.some((m: K8sObject) => m.name === 'cluster-tls' && m.readOnly));
    }
    assert.match(
      renderError({ set: { 'global.clusterTls.enabled': true } }),
      /needs router.clusterTls.volume and worker.clusterTls.volume/,
    );
    assert.match(
      renderError({ set: { 'global.mode': 'production' } }),
      /production, which needs router.apiKeys.existingSecret, router.tls.existingSecret, global.clusterTls.enabled/,
    );
    const production = renderObjects({
      set: {
        'global.mode': 'production',
        'global.clusterTls.enabled': true,
        'router.apiKeys.existingSecret': 'keys',
        'router.tls.existingSecret': 'tls',
        'tests.apiKeySecret': 'test-key',
      },
      setJson: volumes,
    });
    for (const name of ['router', 'worker'])
      assert.equal(env(find(production, 'Deployment', name), 'CHUNKMESH_MODE').value, 'production');
  });

  test('a GPU worker without a GPU is refused', () => {
    assert.match(
      renderError({ set: { 'worker.gpu.count': 0 } }),
      /needs at least one GPU \(or set worker.device=cpu\)/,
    );
  });
});

describe('optional components', () => {
  test('jobs: a runner on the CPU pool, its backlog alert only with it', () => {
    const objects = renderObjects({
      set: { 'jobs.enabled': true, 'monitoring.prometheusRule.enabled': true },
    });
    const jobs = find(objects, 'Deployment', 'jobs');
    assert.deepEqual(container(jobs).command, ['node', 'services/jobs/dist/main.js']);
    assert.match(container(jobs).image, /^chunkmesh\/router:/, 'the router image carries the runner');
    assert.equal(env(jobs, 'CHUNKMESH_SHUTDOWN_GRACE_MS').value, '20000');
    assert.equal(env(jobs, 'CHUNKMESH_OPS_PORT').value, '9463');
    assert.ok(env(jobs, 'CHUNKMESH_REDIS_URL'));
    assert.equal(jobs.spec.template.spec.tolerations, undefined);
    const alerts = (o: K8sObject[]) => JSON.stringify(find(o, 'PrometheusRule', 'monitoring').spec);
    assert.match(alerts(objects), /ChunkmeshJobBacklog/);
    assert.doesNotMatch(
      alerts(renderObjects({ set: { 'monitoring.prometheusRule.enabled': true } })),
      /ChunkmeshJobBacklog/,
    );
  });

  test('dashboards: one labelled ConfigMap per dashboard file', () => {
    const maps = renderObjects({ set: { 'monitoring.dashboards.enabled': true } }).filter(
      (o) => o.kind === 'ConfigMap',
    );
    assert.ok(maps.length >= 1);
    for (const m of maps) {
      assert.equal(m.metadata.labels.grafana_dashboard, '1');
      const [file, json] = Object.entries(m.data)[0] as [string, string];
      assert.match(file, /\.json$/);
      assert.ok(JSON.parse(json).uid);
    }
  });

  test('the helm test pod lists models and completes through the router Service', () => {
    const pod = find(renderObjects(), 'Pod', 'test');
    assert.equal(pod.metadata.annotations['helm.sh/hook'], 'test');
    assert.match(pod.spec.containers[0].args[0], /\/v1\/models[\s\S]*\/v1\/completions/);
    assert.equal(pod.spec.containers[0].env[0].value, 'http://cm-chunkmesh-router:8080');
    assert.ok(!renderObjects({ set: { 'tests.enabled': false } }).some((o) => o.kind === 'Pod'));
  });

  test('NOTES warns about an exposed router without API keys', () => {
    assert.match(
      renderText({ notes: true, set: { 'router.service.type': 'LoadBalancer' } }),
      /WARNING: the router Service is LoadBalancer/,
    );
    assert.doesNotMatch(renderText({ notes: true }), /WARNING/);
  });
});
