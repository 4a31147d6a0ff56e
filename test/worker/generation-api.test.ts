// The worker process over real gRPC: greedy generation from BOS reproduces
// llama2.c's stories260K reference text; usage is counted; a repeated prompt
// is served from the prefix cache with identical tokens; Info describes the
// model and pool; grpc.health.v1 says SERVING; reflection lists the services;
// /metrics and /healthz answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGenerationClient, GENERATION_SERVICE, type GenerationClient } from '@chunkmesh/common';
import { loadModel, type ModelBundle } from '@chunkmesh/model';
import {
  generate,
  healthCheck,
  info,
  REFERENCE_TEXT,
  reflectedServices,
  STORIES_DIR,
  startWorker,
  type WorkerProcess,
} from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';

const BOS = 1;

describe('worker process: Generation over gRPC', () => {
  let worker: WorkerProcess | undefined;
  let client: GenerationClient;
  let bundle: ModelBundle;

  before(async () => {
    [worker, bundle] = await Promise.all([startWorker(), loadModel(STORIES_DIR)]);
    client = createGenerationClient(worker.address);
  });

  after(async () => {
    client?.close();
    await worker?.kill();
  });

  const w = () => worker as WorkerProcess;

  it("greedy from BOS (token ids) streams llama2.c's reference story", async () => {
    const r = await generate(client, {
      tokenIds: { ids: [BOS] },
      sampling: { temperature: 0, maxTokens: 200 },
    });
    assert.equal(r.text.slice(0, REFERENCE_TEXT.length), REFERENCE_TEXT, w().describe());
    assert.equal(r.afterFinal, 0);
    assert.equal(r.final.workerId, w().workerId);
    assert.equal(r.final.error, '');
    // the streamed text is exactly the decoded tokens
    assert.equal(r.text, bundle.tokenizer.decode(r.ids).replace(/^ /, ''));
    assert.deepEqual(r.final.usage, {
      promptTokens: 1,
      completionTokens: r.ids.length,
      cachedPromptTokens: 0,
      computedPromptTokens: 1,
      forkedPromptTokens: 0,
    });
    if (r.final.finishReason === 'FINISH_REASON_LENGTH') assert.equal(r.ids.length, 200);
    else assert.equal(r.final.finishReason, 'FINISH_REASON_STOP');
    assert.ok(r.ids.length > 100, `${r.ids.length} tokens`);
  });

  it('counts usage for a text prompt; the same prompt again is served from the prefix cache, token for token', async () => {
    // (not starting like the story above, whose chunks are cached now)
    const text = `Tom and his dog went to the zoo. ${REFERENCE_TEXT}`;
    const prompt = bundle.tokenizer.encode(text, { addSpecialTokens: true });
    assert.ok(prompt.length > 64, `${prompt.length} prompt tokens`);
    const request = { text, sampling: { temperature: 0, maxTokens: 40, ignoreEos: true } };
    const first = await generate(client, request);
    assert.equal(first.final.finishReason, 'FINISH_REASON_LENGTH');
    assert.deepEqual(first.final.usage, {
      promptTokens: prompt.length,
      completionTokens: 40,
      cachedPromptTokens: 0,
      computedPromptTokens: prompt.length,
      forkedPromptTokens: 0,
    });
    assert.equal(first.ids.length, 40);

    const second = await generate(client, request);
    assert.deepEqual(second.ids, first.ids);
    assert.equal(second.text, first.text);
    // every full chunk of the prompt but its last token (which is always computed, for its logits)
    const cached = Math.floor((prompt.length - 1) / 16) * 16;
    assert.deepEqual(second.final.usage, {
      promptTokens: prompt.length,
      completionTokens: 40,
      cachedPromptTokens: cached,
      computedPromptTokens: prompt.length - cached,
      forkedPromptTokens: 0,
    });

    // the same prompt as token ids is the same request
    const asIds = await generate(client, { tokenIds: { ids: prompt }, sampling: request.sampling });
    assert.deepEqual(asIds.ids, first.ids);
    assert.equal(asIds.final.usage?.cachedPromptTokens, cached);
  });

  it('serves concurrent requests, each as it would be alone', async () => {
    const prompts = ['Tom and Lily', 'The dog ran', 'Once upon a time, a bird'].map((s) =>
      bundle.tokenizer.encode(s, { addSpecialTokens: true }),
    );
    const sampling = { temperature: 0, maxTokens: 30, ignoreEos: true };
    const alone = [];
    for (const p of prompts) alone.push(await generate(client, { tokenIds: { ids: p }, sampling }));
    const together = await Promise.all(
      prompts.map((p) => generate(client, { tokenIds: { ids: p }, sampling })),
    );
    for (const [i, r] of together.entries()) assert.deepEqual(r.ids, alone[i]?.ids, `prompt ${i}`);
  });

  it('a call cancelled mid-stream or past its deadline frees its sequence; the worker goes on', async () => {
    const long = { tokenIds: { ids: [BOS, 300] }, sampling: { maxTokens: 500, ignoreEos: true } };
    const call = client.generate(long);
    const cancelled = new Promise<grpc.ServiceError>((resolve) => {
      call.on('error', resolve);
      call.once('data', () => call.cancel());
    });
    assert.equal((await cancelled).code, grpc.status.CANCELLED);
    await assert.rejects(
      generate(client, long, { deadline: Date.now() + 40 }),
      (err: grpc.ServiceError) => err.code === grpc.status.DEADLINE_EXCEEDED,
    );
    // nothing stays pinned once the engine has noticed
    const deadline = Date.now() + 3000;
    let body = '';
    while (Date.now() < deadline) {
      body = await (await fetch(w().metricsUrl)).text();
      if (/^chunkmesh_kv_chunks\{[^}]*state="pinned"[^}]*\} 0$/m.test(body)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(body, /^chunkmesh_kv_chunks\{[^}]*state="pinned"[^}]*\} 0$/m);
    assert.match(body, /^chunkmesh_kv_chunks\{[^}]*state="tail"[^}]*\} 0$/m);
    const again = await generate(client, { ...long, sampling: { maxTokens: 8, ignoreEos: true } });
    assert.equal(again.ids.length, 8);
    assert.ok(w().running, w().describe());
  });

  it('Info describes the model, the KV pool and this worker', async () => {
    const res = await info(client);
    const c = bundle.model.config;
    assert.equal(res.modelId, 'stories260K');
    assert.equal(res.chunkTokens, 16);
    assert.equal(res.capacityChunks, 65_536 / 16);
    assert.equal(res.kvBytesPerToken, c.layers * 2 * c.kvHeads * c.headDim * 4);
    assert.equal(res.vocabSize, 512);
    assert.equal(res.maxSeqLen, 512);
    assert.equal(res.tokenizerId, bundle.tokenizer.id);
    assert.ok(res.tokenizerId.length > 0);
    assert.equal(res.workerId, w().workerId);
    assert.match(res.epoch, /^\d+$/);
    assert.notEqual(res.epoch, '0');
    // stable for the life of the process
    assert.equal((await info(client)).epoch, res.epoch);
  });

  it('grpc.health.v1 says SERVING for the server and for Generation', async () => {
    assert.equal(await healthCheck(w().address), 'SERVING');
    assert.equal(await healthCheck(w().address, GENERATION_SERVICE), 'SERVING');
    await assert.rejects(healthCheck(w().address, 'no.such.Service'), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.NOT_FOUND);
      return true;
    });
  });

  it('reflection lists Generation, WorkerControl and Health', async () => {
    const services = await reflectedServices(w().address);
    assert.ok(services.includes(GENERATION_SERVICE), services.join(', '));
    assert.ok(services.includes('chunkmesh.v1.WorkerControl'), services.join(', '));
    assert.ok(services.includes('grpc.health.v1.Health'), services.join(', '));
  });

  it('exports Prometheus metrics and is ready', async () => {
    const base = `http://127.0.0.1:${w().metricsPort}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    const body = await res.text();
    /** The sample of `name` whose labels include `labels` (service="worker" is on every one). */
    const value = (name: string, labels: Record<string, string> = {}) => {
      for (const line of body.split('\n')) {
        const m = line.match(/^([a-z_]+)(?:\{(.*)\})? (\S+)$/);
        if (!m || m[1] !== name) continue;
        const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[3]);
      }
      return Number.NaN;
    };
    // the tests above queried the cache and hit it
    assert.ok(value('chunkmesh_prefix_cache_query_tokens_total') > 0, body.slice(-3000));
    assert.ok(value('chunkmesh_prefix_cache_hit_tokens_total') > 0);
    assert.ok(value('chunkmesh_kv_chunks', { state: 'cached' }) > 0);
    assert.equal(value('chunkmesh_kv_chunks', { state: 'pinned' }), 0);
  });
});
