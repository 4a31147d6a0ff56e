// TLS on the router's front doors (issue 12, item 3): HTTPS and gRPC over TLS
// with the router's certificate, nothing in plaintext on those ports, and a
// rotated certificate served to new connections without a restart. The ops
// port stays plain HTTP (for probes and Prometheus, off the public network).
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createGenerationClient } from '@chunkmesh/common';
import { generate, type RouterProcess, TestPki, tokenRun, waitFor } from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import { MODEL, TestCluster } from '../router/cluster.ts';
import { httpsCall } from './secure-client.ts';

describe('TLS front doors', () => {
  let c: TestCluster;
  let router: RouterProcess;
  const pki = TestPki.create('front');
  const other = TestPki.create('other');
  const ca = readFileSync(pki.caFile);
  const served = pki.issue('router', { dns: ['localhost'], ip: ['127.0.0.1'] });

  before(async () => {
    c = await TestCluster.start({ workers: 1, name: 'tls' });
    router = await c.startRouter(['--tls-cert-file', served.certFile, '--tls-key-file', served.keyFile]);
  });
  after(async () => {
    await c?.stop();
    pki.cleanup();
    other.cleanup();
  });

  test('HTTPS serves the OpenAI API; plaintext and an untrusted client get nothing', async () => {
    assert.match(router.baseUrl, /^https:/);
    const r = await httpsCall(`${router.baseUrl}/v1/completions`, {
      ca,
      body: { model: MODEL, prompt: tokenRun(5, 12), max_tokens: 3 },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.usage.completion_tokens, 3);
    await assert.rejects(fetch(`http://127.0.0.1:${router.httpPort}/v1/models`), 'no plaintext HTTP');
    await assert.rejects(
      httpsCall(`${router.baseUrl}/v1/models`, { ca: readFileSync(other.caFile) }),
      /self-signed|unable to verify/,
    );
    assert.equal((await fetch(router.metricsUrl)).status, 200, 'the ops port is plain HTTP');
    // development mode without API keys says so, loudly
    assert.match(router.stderr, /"level":"warn","msg":"INSECURE \(development mode\): no --api-keys-file/);
  });

  test('gRPC over TLS; a plaintext client is refused', async () => {
    const secure = createGenerationClient(router.address, grpc.credentials.createSsl(ca), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    const plain = createGenerationClient(router.address);
    try {
      const out = await generate(secure, { tokenIds: { ids: tokenRun(6, 12) }, sampling: { maxTokens: 2 } });
      assert.equal(out.final.usage?.completionTokens, 2);
      await assert.rejects(
        generate(plain, { tokenIds: { ids: tokenRun(6, 12) } }, { deadline: Date.now() + 5000 }),
        (e) => (e as grpc.ServiceError).code === grpc.status.UNAVAILABLE,
      );
    } finally {
      secure.close();
      plain.close();
    }
  });

  test('a rotated certificate is served to new connections without a restart', async () => {
    const before = await httpsCall(`${router.baseUrl}/v1/models`, { ca });
    const next = pki.issue('router', { dns: ['localhost'], ip: ['127.0.0.1'] });
    copyFileSync(next.keyFile, served.keyFile);
    copyFileSync(next.certFile, served.certFile);
    const rotated = await waitFor(
      'the new certificate on a new connection',
      async () => {
        const r = await httpsCall(`${router.baseUrl}/v1/models`, { ca });
        return r.serial !== before.serial ? r : undefined;
      },
      10_000,
    );
    assert.equal(rotated.status, 200);
    assert.equal(router.running, true);
    const secure = createGenerationClient(router.address, grpc.credentials.createSsl(ca), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    try {
      const out = await generate(secure, { tokenIds: { ids: tokenRun(8, 12) }, sampling: { maxTokens: 2 } });
      assert.equal(out.final.usage?.completionTokens, 2, 'gRPC on the rotated certificate');
    } finally {
      secure.close();
    }
  });
});
