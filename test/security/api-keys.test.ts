// API keys bound to tenants, against a real router and worker (issue 12,
// item 1). Before keys, `tenant` was self-asserted: naming tenant A got A's
// cache hits, so cached_tokens told anyone what A had sent. Now a normal key
// runs as its own tenant, naming another is 403, and an admin key may act for
// any tenant; the key file reloads without a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newApiKey } from '@chunkmesh/router';
import { collect, expectStatus, type RouterProcess, tokenRun, waitFor } from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import { type HttpReply, MODEL, post, routerMetric, TestCluster } from '../router/cluster.ts';
import { bearer, keyMetadata, writeKeyFile } from './secure-client.ts';

const acme = newApiKey();
const globex = newApiKey();
const admin = newApiKey();

function assertError(r: HttpReply, status: number, code: string, type: string, what: string): void {
  assert.equal(r.status, status, `${what}: ${r.text}`);
  assert.deepEqual(Object.keys(r.body ?? {}), ['error'], `${what}: OpenAI's error shape`);
  assert.equal(r.body.error.code, code, what);
  assert.equal(r.body.error.type, type, what);
}

describe('API keys bound to tenants', () => {
  let c: TestCluster;
  let router: RouterProcess;
  let keyFile: string;
  const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-api-keys-'));
  const completions = () => `${router.baseUrl}/v1/completions`;
  const complete = (key: string, prompt: number[], extra: Record<string, unknown> = {}, headers = {}) =>
    post(completions(), { model: MODEL, prompt, max_tokens: 2, temperature: 0, ...extra }, 'POST', {
      ...bearer(key),
      ...headers,
    });

  before(async () => {
    c = await TestCluster.start({ workers: 1, name: 'api-keys' });
    keyFile = writeKeyFile(dir, {
      [acme]: 'tenant=acme name=acme-prod',
      [globex]: 'tenant=globex',
      [admin]: 'tenant=ops role=admin name=ops-admin',
    });
    router = await c.startRouter(['--api-keys-file', keyFile]);
  });
  after(async () => {
    await c?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every public route needs a key: none, a malformed or an unknown one is 401 invalid_api_key', async () => {
    const models = `${router.baseUrl}/v1/models`;
    for (const [what, headers] of [
      ['no key', {}],
      ['not Bearer', { authorization: `Basic ${acme}` }],
      ['unknown key', bearer(newApiKey())],
    ] as const) {
      const r = await post(models, null, 'GET', headers);
      assertError(r, 401, 'invalid_api_key', 'authentication_error', `GET /v1/models, ${what}`);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
      assert.doesNotMatch(r.text, new RegExp(acme), 'never echoes a key');
    }
    assertError(
      await complete(newApiKey(), tokenRun(1, 8)),
      401,
      'invalid_api_key',
      'authentication_error',
      'POST',
    );
    assert.equal((await post(models, null, 'GET', bearer(acme))).status, 200);
    // ops endpoints stay keyless on their own port
    assert.equal((await fetch(router.metricsUrl)).status, 200);
  });

  test("a normal key runs as its tenant: another tenant's cache stays invisible, and naming it is 403", async () => {
    const prompt = tokenRun(4242, 48);
    await complete(globex, prompt);
    const again = await complete(globex, prompt);
    assert.equal(again.status, 200, again.text);
    assert.ok(again.body.usage.prompt_tokens_details.cached_tokens >= 32, 'globex hits its own cache');

    const asAcme = await complete(acme, prompt);
    assert.equal(asAcme.status, 200, asAcme.text);
    assert.equal(
      asAcme.body.usage.prompt_tokens_details.cached_tokens,
      0,
      "acme's key never sees globex's cache",
    );

    const claimed = await complete(acme, prompt, { tenant: 'globex' });
    assertError(claimed, 403, 'permission_denied', 'permission_error', 'acme claiming globex in the body');
    assert.match(claimed.body.error.message, /'acme-prod' is bound to tenant 'acme'/);
    const byHeader = await complete(acme, prompt, {}, { 'x-chunkmesh-tenant': 'globex' });
    assertError(byHeader, 403, 'permission_denied', 'permission_error', 'acme claiming globex in the header');
    assert.equal(
      (await complete(acme, prompt, { tenant: 'acme' })).status,
      200,
      'naming its own tenant is fine',
    );

    const asOps = await complete(admin, prompt);
    assert.equal(
      asOps.body.usage.prompt_tokens_details.cached_tokens,
      0,
      'an admin key runs as its own tenant by default',
    );
    for (const how of [{ tenant: 'globex' }, {}]) {
      const r = await complete(admin, prompt, how, 'tenant' in how ? {} : { 'x-chunkmesh-tenant': 'globex' });
      assert.equal(r.status, 200, r.text);
      assert.ok(
        r.body.usage.prompt_tokens_details.cached_tokens >= 32,
        `an admin key acts for globex (${JSON.stringify(how)})`,
      );
    }
    assert.ok(
      (await routerMetric(router, 'chunkmesh_router_auth_failures_total', { reason: 'other_tenant' })) >= 2,
    );
  });

  test('gRPC: the key in the authorization metadata, the same verdicts', async () => {
    const client = c.client(router.address);
    const request = { tokenIds: { ids: tokenRun(7, 20) }, sampling: { maxTokens: 2 } };
    await expectStatus(client, request, grpc.status.UNAUTHENTICATED, /no API key/);
    const denied = await collect(client.generate({ ...request, tenant: 'globex' }, keyMetadata(acme))).catch(
      (e: grpc.ServiceError) => e,
    );
    assert.equal((denied as grpc.ServiceError).code, grpc.status.PERMISSION_DENIED, String(denied));
    const ok = await collect(client.generate(request, keyMetadata(acme)));
    assert.equal(ok.final.usage?.completionTokens, 2);
    const info = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.info({}, new grpc.Metadata(), {}, (err) => resolve(err)),
    );
    assert.equal(info?.code, grpc.status.UNAUTHENTICATED, 'Info needs a key too');
  });

  test('the key file reloads without a restart: a new key works, a removed one is refused', async () => {
    const fresh = newApiKey();
    writeKeyFile(dir, {
      [fresh]: 'tenant=acme',
      [globex]: 'tenant=globex',
      [admin]: 'tenant=ops role=admin',
    });
    await waitFor(
      'the new key to be accepted',
      async () => (await complete(fresh, tokenRun(3, 8))).status === 200,
      10_000,
    );
    assertError(
      await complete(acme, tokenRun(3, 8)),
      401,
      'invalid_api_key',
      'authentication_error',
      'removed key',
    );
    assert.match(router.stderr, /API keys loaded.*"keys":3/);
  });
});
