// Trust nothing read from Redis (issue 12, item 4): with mutual TLS between
// routers and workers, a registry entry pointing at a process without the
// worker's own cluster certificate gets no traffic. Two real workers and a
// router run in production mode (API keys, TLS front doors, mTLS); three fake
// Generation servers register through Redis exactly as workers do: one in
// plaintext, one with a certificate from another CA, one with a real worker's
// cluster certificate under another worker id (a stolen or misused
// certificate). The router places on all five (round-robin), so each fake is
// tried; none receives a request, and every client gets the real workers'
// completion.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  addGenerationService,
  CertificateFiles,
  clusterChannelCredentials,
  clusterChannelOptions,
  connectRedis,
  createGenerationClient,
  type GenerationClient,
  serverTlsCredentials,
} from '@chunkmesh/common';
import { newApiKey } from '@chunkmesh/router';
import {
  generate,
  type IssuedCertificate,
  KvReporter,
  type RouterProcess,
  startWorker,
  TestPki,
  tokenRun,
} from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import { CHUNK, MODEL, routerMetric, TestCluster } from '../router/cluster.ts';
import { bearer, httpsCall, writeKeyFile } from './secure-client.ts';

const REAL = ['worker-a', 'worker-b'];
const FORGED_TEXT = 'FORGED COMPLETION';

/** A Generation server that is not a worker: it counts the requests it gets and answers them with forged text. */
async function fakeWorker(credentials: grpc.ServerCredentials) {
  const server = new grpc.Server();
  const received = { generate: 0 };
  addGenerationService(server, {
    generate(call) {
      received.generate++;
      call.write({ delta: { tokenIds: [7], text: FORGED_TEXT } });
      call.write({ final: { finishReason: 'FINISH_REASON_STOP', workerId: 'forged' } });
      call.end();
    },
    info: (_call, callback) => callback(null, {}),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, received, endpoint: `127.0.0.1:${port}` };
}

describe('forged registry entries under mutual TLS', () => {
  let c: TestCluster;
  let router: RouterProcess;
  let direct: GenerationClient;
  const cluster = TestPki.create('cluster');
  const stranger = TestPki.create('stranger');
  const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-forged-'));
  const key = newApiKey();
  const ca = readFileSync(cluster.caFile);
  const certs: Record<string, IssuedCertificate> = {};
  const fakes: Record<string, Awaited<ReturnType<typeof fakeWorker>>> = {};
  const reporters: KvReporter[] = [];
  const watched: CertificateFiles[] = [];
  const redis = { client: undefined as ReturnType<typeof connectRedis> | undefined };
  const files = (cert: IssuedCertificate) => {
    const f = new CertificateFiles(cert, { name: 'test' });
    watched.push(f);
    return f;
  };
  const clusterFlags = (cert: IssuedCertificate) => [
    '--cluster-ca-file',
    cert.caFile,
    '--cluster-cert-file',
    cert.certFile,
    '--cluster-key-file',
    cert.keyFile,
  ];

  before(async () => {
    c = await TestCluster.start({ workers: 0, name: 'forged' });
    for (const id of REAL) {
      certs[id] = cluster.issue(id, { dns: [id] });
      const w = await startWorker({
        redisUrl: c.redis.url,
        cluster: c.cluster,
        args: ['--worker-id', id, '--mode', 'production', ...clusterFlags(certs[id] as IssuedCertificate)],
      });
      c.workers.push(w);
    }
    fakes['worker-forged-plaintext'] = await fakeWorker(grpc.ServerCredentials.createInsecure());
    fakes['worker-forged-other-ca'] = await fakeWorker(
      serverTlsCredentials(files(stranger.issue('fake', { dns: ['worker-forged-other-ca'] }))),
    );
    // worker-a's own certificate and key, served under another id
    fakes['worker-forged-stolen'] = await fakeWorker(
      serverTlsCredentials(files(certs['worker-a'] as IssuedCertificate)),
    );
    redis.client = connectRedis({ url: c.redis.url });
    for (const [workerId, fake] of Object.entries(fakes)) {
      const reporter = new KvReporter({
        redis: redis.client,
        cluster: c.cluster,
        workerId,
        endpoint: fake.endpoint,
        modelId: MODEL,
        chunkTokens: CHUNK,
        kvDtype: 'f32',
        capacityChunks: 4096,
        heartbeatIntervalMs: 300,
        heartbeatTtlMs: 1500,
      });
      await reporter.start();
      reporters.push(reporter);
    }
    const front = cluster.issue('router-front', { dns: ['localhost'], ip: ['127.0.0.1'] });
    router = await c.startRouter(
      [
        '--mode',
        'production',
        '--api-keys-file',
        writeKeyFile(dir, { [key]: 'tenant=t' }),
        '--tls-cert-file',
        front.certFile,
        '--tls-key-file',
        front.keyFile,
        ...clusterFlags(cluster.issue('router')),
        '--policy',
        'round-robin',
        '--max-retries',
        '5',
      ],
      REAL.length + Object.keys(fakes).length,
    );
    const probe = files(cluster.issue('probe'));
    direct = createGenerationClient(
      c.worker('worker-a').address,
      clusterChannelCredentials(probe),
      clusterChannelOptions('worker-a'),
    );
  });
  after(async () => {
    direct?.close();
    for (const r of reporters) await r.stop();
    redis.client?.disconnect();
    for (const f of Object.values(fakes)) f.server.forceShutdown();
    for (const f of watched) f.close();
    await c?.stop();
    for (const d of [cluster, stranger]) d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('no fake receives a request; every client gets the real workers\u2019 completion', async () => {
    const servedBy = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const prompt = tokenRun(9000 + i, 24);
      const r = await httpsCall(`${router.baseUrl}/v1/completions`, {
        ca,
        headers: bearer(key),
        body: { model: MODEL, prompt, max_tokens: 6, temperature: 0 },
      });
      assert.equal(r.status, 200, r.text);
      const worker = r.headers.get('x-chunkmesh-worker') ?? '';
      assert.ok(REAL.includes(worker), `served by ${worker}`);
      servedBy.set(worker, (servedBy.get(worker) ?? 0) + 1);
      const expected = await generate(direct, { tokenIds: { ids: prompt }, sampling: { maxTokens: 6 } });
      assert.equal(r.body.choices[0].text, expected.text, `request ${i}: the real workers' greedy text`);
    }
    for (const [id, fake] of Object.entries(fakes))
      assert.equal(fake.received.generate, 0, `${id} received a request`);
    // The fakes were live and placed on (round-robin over all five), each failing its handshake:
    // the test did not pass by never trying them.
    const failedHandshakes = await routerMetric(router, 'chunkmesh_router_retries_total', {
      code: 'UNAVAILABLE',
    });
    assert.ok(
      failedHandshakes >= Object.keys(fakes).length,
      `retries after failed handshakes: ${failedHandshakes}`,
    );
    assert.equal(servedBy.size, 2, 'both real workers served');
  });

  test('a worker answers only callers holding a cluster certificate', async () => {
    const outsider = stranger.issue('outsider');
    const o = files(outsider);
    const callers = {
      plaintext: grpc.credentials.createInsecure(),
      'no client certificate': grpc.credentials.createSsl(ca),
      'another CA\u2019s certificate': grpc.credentials.createSsl(ca, o.current.key, o.current.cert),
    };
    for (const [what, credentials] of Object.entries(callers)) {
      const client = createGenerationClient(
        c.worker('worker-a').address,
        credentials,
        clusterChannelOptions('worker-a'),
      );
      try {
        await assert.rejects(
          generate(
            client,
            { tokenIds: { ids: tokenRun(1, 8) }, sampling: { maxTokens: 2 } },
            { deadline: Date.now() + 5000 },
          ),
          (e) => (e as grpc.ServiceError).code === grpc.status.UNAVAILABLE,
          what,
        );
      } finally {
        client.close();
      }
    }
  });
});
