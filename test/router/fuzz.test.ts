// The fuzz suite: a few thousand seeded random requests at a router in front
// of two workers, real processes: OpenAI HTTP requests (paths, methods,
// mangled bodies, raw garbage) and gRPC Generate requests (every field, NaN,
// infinities, huge and empty values, and undecodable bytes). Pass: no 5xx
// (the 5xx a router intends, 503 without a live worker and 504 past a
// deadline, cannot happen here) and no gRPC INTERNAL or UNKNOWN but the one
// gRPC intends: bytes that are no GenerateRequest are INTERNAL "Error
// deserializing request", as the gRPC status-code spec has it (and grpc-go
// answers too); every HTTP error in OpenAI's error shape; every process alive
// at the end; the router's and workers' memory bounded. The counts are
// printed.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { printTable } from '@chunkmesh/cli';
import type { GenerateResponse, GenerationClient } from '@chunkmesh/common';
import { collect, inPool, type RouterProcess, scrapeMetrics, seeded } from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import { complete, MODEL, TestCluster } from './cluster.ts';
import { grpcCase, type HttpCase, httpCase } from './fuzz-cases.ts';

const SEED = 20_240_612;
const HTTP_CASES = 2000;
const GRPC_CASES = 1500;
const RAW_GRPC_CASES = 200;
const CONCURRENCY = 8;
/** Growth of a process's resident memory over the whole run, at most. */
const MAX_GROWTH_MIB = 150;

interface HttpResult {
  status: number;
  contentType: string;
  text: string;
}

function send(base: string, c: HttpCase): Promise<HttpResult> {
  return new Promise((resolve) => {
    const req = request(`${base}${c.path}`, { method: c.method, headers: c.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', (err) => resolve({ status: -1, contentType: '', text: `reply cut: ${err.message}` }));
    });
    // A connection reset is a finding like a 5xx, not the end of the run.
    req.on('error', (err) => resolve({ status: -1, contentType: '', text: `no reply: ${err.message}` }));
    req.end(c.body);
  });
}

/** What is wrong with an HTTP error reply, or null: OpenAI's {"error": {message, type, param, code}}. */
function errorShapeProblem(r: HttpResult): string | null {
  if (!/application\/json/.test(r.contentType)) return `content-type ${r.contentType}`;
  let body: { error?: Record<string, unknown> };
  try {
    body = JSON.parse(r.text);
  } catch {
    return 'not JSON';
  }
  const e = body.error;
  if (!e) return 'no error object';
  if (typeof e.message !== 'string' || e.message === '') return 'no message';
  if (typeof e.type !== 'string' || typeof e.code !== 'string') return 'no type or code';
  if (!(e.param === null || typeof e.param === 'string')) return 'param neither null nor a string';
  return null;
}

/** One call whose request message is `bytes` as they are, undecodable or not: its status. */
function rawGenerate(address: string, bytes: Buffer): Promise<{ code: grpc.status; details: string }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<{ code: grpc.status; details: string }>((resolve) => {
    const call = client.makeServerStreamRequest(
      '/chunkmesh.v1.Generation/Generate',
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
    );
    call.on('data', () => undefined);
    call.on('error', (err: grpc.ServiceError) => resolve(err));
    call.on('end', () => resolve({ code: grpc.status.OK, details: '' }));
  }).finally(() => client.close());
}

describe('fuzz suite: seeded random HTTP and gRPC requests at the router', { timeout: 240_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;
  const rss = async (url: string) =>
    (await scrapeMetrics(url)).value('process_resident_memory_bytes') / 2 ** 20;
  const memory = async () => Promise.all([router.metricsUrl, ...c.workers.map((w) => w.metricsUrl)].map(rss));
  let before0: number[] = [];

  before(async () => {
    c = await TestCluster.start({ workers: 2, name: 'fuzz' });
    router = await c.startRouter(['--default-max-tokens', '4']);
    // Warm (code paths, the allocator) before the memory baseline.
    for (let i = 0; i < 50; i++) await complete(router, `warm ${i}`, { max_tokens: 2 });
    before0 = await memory();
  });
  after(async () => {
    await c?.stop();
  });

  test('no 5xx, OpenAI errors everywhere, processes alive, memory bounded', async () => {
    const r = seeded(SEED);
    const httpCases = Array.from({ length: HTTP_CASES }, () => httpCase(r, MODEL));
    const http = await inPool(httpCases.length, CONCURRENCY, (i) =>
      send(router.baseUrl, httpCases[i] as HttpCase),
    );
    const httpByStatus = new Map<number, number>();
    const problems: string[] = [];
    http.forEach((res, i) => {
      const cs = httpCases[i] as HttpCase;
      httpByStatus.set(res.status, (httpByStatus.get(res.status) ?? 0) + 1);
      const what = `${cs.method} ${cs.path.slice(0, 60)} ${String(cs.body).slice(0, 200)}`;
      if (res.status >= 500 || res.status < 0)
        problems.push(`${res.status} for ${what}: ${res.text.slice(0, 300)}`);
      if (res.status >= 400 && cs.method !== 'HEAD') {
        const p = errorShapeProblem(res);
        if (p)
          problems.push(
            `${res.status} not in OpenAI's error shape (${p}) for ${what}: ${res.text.slice(0, 200)}`,
          );
      }
    });

    const client: GenerationClient = c.client(router.address);
    const grpcCases = Array.from({ length: GRPC_CASES }, () => grpcCase(r));
    const grpcByCode = new Map<string, number>();
    const count = (code: grpc.status) =>
      grpcByCode.set(grpc.status[code], (grpcByCode.get(grpc.status[code]) ?? 0) + 1);
    const ALLOWED = new Set([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED]);
    await inPool(grpcCases.length, CONCURRENCY, async (i) => {
      const req = grpcCases[i];
      try {
        const done = await collect(client.generate(req ?? {}) as grpc.ClientReadableStream<GenerateResponse>);
        assert.ok(done.final, 'a stream that ends OK ends with a final');
        count(grpc.status.OK);
      } catch (err) {
        const e = err as grpc.ServiceError;
        count(e.code);
        if (!ALLOWED.has(e.code))
          problems.push(
            `gRPC ${grpc.status[e.code]} (${e.details}) for ${JSON.stringify(req).slice(0, 300)}`,
          );
      }
    });
    await inPool(RAW_GRPC_CASES, CONCURRENCY, async () => {
      const bytes = Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256)));
      const { code, details } = await rawGenerate(router.address, bytes);
      count(code);
      const undecodable = code === grpc.status.INTERNAL && details === 'Error deserializing request';
      if (!ALLOWED.has(code) && !undecodable)
        problems.push(
          `gRPC ${grpc.status[code]} (${details}) for raw bytes ${bytes.toString('hex').slice(0, 80)}`,
        );
    });

    const after1 = await memory();
    printTable(
      ['door', 'cases', 'outcomes'],
      [
        [
          'HTTP',
          HTTP_CASES,
          [...httpByStatus]
            .sort()
            .map(([s, n]) => `${s}: ${n}`)
            .join(', '),
        ],
        [
          'gRPC',
          GRPC_CASES + RAW_GRPC_CASES,
          [...grpcByCode]
            .sort()
            .map(([s, n]) => `${s}: ${n}`)
            .join(', '),
        ],
      ],
    );
    printTable(
      ['process', 'RSS before MiB', 'RSS after MiB'],
      ['router', ...c.workers.map((w) => w.workerId)].map((name, i) => [
        name,
        (before0[i] as number).toFixed(0),
        (after1[i] as number).toFixed(0),
      ]),
    );

    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems`);
    assert.ok((httpByStatus.get(200) ?? 0) > HTTP_CASES / 20, 'some requests were valid and served');
    assert.ok((grpcByCode.get('OK') ?? 0) > GRPC_CASES / 20, 'some gRPC requests were valid and served');
    for (const p of [router, ...c.workers]) assert.ok(p.running, `${p.describe()} is alive`);
    for (const [i, mib] of after1.entries()) {
      const was = before0[i] as number;
      assert.ok(
        mib - was < MAX_GROWTH_MIB,
        `process ${i} grew from ${was.toFixed(0)} to ${mib.toFixed(0)} MiB`,
      );
    }
    // And it still serves.
    await complete(router, 'after the fuzz', { max_tokens: 2 });
  });
});
