// Per-tenant limits on a real router (issue 12, item 2). One small worker
// (2 running, 2 waiting) is shared by a tenant that floods it, ignoring every
// 429, and a polite one sending a request now and then. Limited to 2 open
// streams, the flood can never fill the worker, so every polite request is
// served, promptly; without the limit the flood fills it and polite requests
// get 429 "at capacity". Over a limit the answer is 429 with retry-after in
// OpenAI's error shape (HTTP), RESOURCE_EXHAUSTED with retry-after-ms (gRPC).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RETRY_AFTER_METADATA } from '@chunkmesh/common';
import { newApiKey } from '@chunkmesh/router';
import { collect, type RouterProcess, tokenRun } from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import { type HttpReply, MODEL, post, routerMetric, TestCluster } from '../router/cluster.ts';
import { bearer, keyMetadata, writeKeyFile } from './secure-client.ts';

const flood = newApiKey();
const polite = newApiKey();
const trickle = newApiKey();
const metered = newApiKey();
const FLOOD_SECONDS = 8;

function assertLimited(r: HttpReply, limit: RegExp): number {
  assert.equal(r.status, 429, r.text);
  assert.deepEqual(Object.keys(r.body), ['error']);
  assert.equal(r.body.error.type, 'rate_limit_error');
  assert.equal(r.body.error.code, 'resource_exhausted');
  assert.match(r.body.error.message, limit);
  const ms = Number(r.headers.get('retry-after-ms'));
  assert.ok(ms > 0, `retry-after-ms ${r.headers.get('retry-after-ms')}`);
  assert.equal(r.headers.get('retry-after'), String(Math.ceil(ms / 1000)));
  return ms;
}

describe('per-tenant limits', () => {
  let c: TestCluster;
  let router: RouterProcess;
  const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-limits-'));
  const complete = (key: string, seed: number, maxTokens: number) =>
    post(
      `${router.baseUrl}/v1/completions`,
      { model: MODEL, prompt: tokenRun(seed, 40), max_tokens: maxTokens, temperature: 0, ignore_eos: true },
      'POST',
      bearer(key),
    );

  before(async () => {
    c = await TestCluster.start({
      workers: 1,
      name: 'limits',
      workerArgs: ['--max-batch', '2', '--max-queue', '2'],
    });
    router = await c.startRouter([
      '--api-keys-file',
      writeKeyFile(dir, {
        [flood]: 'tenant=flood max-streams=2',
        [polite]: 'tenant=polite',
        [trickle]: 'tenant=trickle requests-per-second=2',
        [metered]: 'tenant=metered tokens-per-second=40',
      }),
      // the router's own default applies to tenants whose keys set none: generous, never reached here
      '--tenant-requests-per-second',
      '1000',
      '--max-retries',
      '0',
    ]);
  });
  after(async () => {
    await c?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a flooding tenant cannot starve a polite one: every polite request is served, promptly', async () => {
    const end = Date.now() + FLOOD_SECONDS * 1000;
    const floodStatus = new Map<number, number>();
    let limited: HttpReply | undefined;
    const flooder = async (lane: number) => {
      for (let i = 0; Date.now() < end; i++) {
        const r = await complete(flood, lane * 10_000 + i, 48);
        floodStatus.set(r.status, (floodStatus.get(r.status) ?? 0) + 1);
        if (r.status === 429) limited ??= r;
        // a flood ignores retry-after; the pause only keeps this test process from spinning
        if (r.status === 429) await sleep(5);
      }
    };
    const politeLatencies: number[] = [];
    const politeFailures: string[] = [];
    const politeClient = async () => {
      await sleep(500); // let the flood build up first
      for (let i = 0; Date.now() < end - 300; i++) {
        const t0 = Date.now();
        const r = await complete(polite, 500_000 + i, 8);
        politeLatencies.push(Date.now() - t0);
        if (r.status !== 200) politeFailures.push(`${r.status} ${r.text}`);
        await sleep(250);
      }
    };
    await Promise.all([...Array.from({ length: 12 }, (_, lane) => flooder(lane)), politeClient()]);

    assert.deepEqual(politeFailures, [], 'every polite request was served');
    assert.ok(politeLatencies.length >= 10, `polite requests sent: ${politeLatencies.length}`);
    const worst = Math.max(...politeLatencies);
    assert.ok(worst < 3000, `polite latency bounded (worst ${worst} ms of ${politeLatencies.join(', ')})`);
    assert.ok((floodStatus.get(200) ?? 0) > 0, 'the flood still gets its share');
    assert.ok(limited, `the flood was limited (statuses ${JSON.stringify([...floodStatus])})`);
    assertLimited(limited, /tenant 'flood' has 2 requests open \(limit 2\)/);
    assert.ok(
      (await routerMetric(router, 'chunkmesh_router_tenant_limited_total', {
        limit: 'streams',
        tenant: 'flood',
      })) > 0,
    );
  });

  test('requests per second and tokens per second: 429 with the wait until a retry can succeed', async () => {
    assert.equal((await complete(trickle, 1, 4)).status, 200);
    assert.equal((await complete(trickle, 2, 4)).status, 200);
    const wait = assertLimited(
      await complete(trickle, 3, 4),
      /tenant 'trickle' is over 2 requests per second/,
    );
    assert.ok(wait <= 500, `a request refills in 500 ms at 2/s, told ${wait}`);
    await sleep(wait + 20);
    assert.equal((await complete(trickle, 4, 4)).status, 200, 'retrying after retry-after-ms succeeds');
    // 40 tokens/s: a 40-token prompt with 200 completion tokens is more than the bucket holds; it runs
    // (the bucket was full) and leaves a debt of 200 tokens, 5 s at 40/s, before the next one
    const big = await complete(metered, 5, 200);
    assert.equal(big.status, 200, big.text);
    const debt = assertLimited(
      await complete(metered, 6, 4),
      /tenant 'metered' is over 40 tokens per second/,
    );
    assert.ok(debt > 1000 && debt <= 6000, `the debt takes seconds to repay, told ${debt} ms`);
  });

  test('gRPC: RESOURCE_EXHAUSTED with retry-after-ms in the trailing metadata', async () => {
    await sleep(1000); // trickle's bucket refills
    const client = c.client(router.address);
    const request = { tokenIds: { ids: tokenRun(77, 20) }, sampling: { maxTokens: 2 } };
    await collect(client.generate(request, keyMetadata(trickle)));
    await collect(client.generate(request, keyMetadata(trickle)));
    const err = (await collect(client.generate(request, keyMetadata(trickle))).then(
      () => assert.fail('admitted a third request within the second'),
      (e: grpc.ServiceError) => e,
    )) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, err.details);
    assert.match(err.details, /over 2 requests per second; retry after \d\.\d s/);
    const ms = Number(err.metadata.get(RETRY_AFTER_METADATA)[0]);
    assert.ok(ms > 0 && ms <= 500, `retry-after-ms ${ms}`);
  });
});
