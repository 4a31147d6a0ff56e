// The router's two front doors over real sockets: the OpenAI-compatible HTTP
// API (fetch) and gRPC Generation/Info, in front of two real workers. Covers
// the reply shapes (JSON and server-sent events), the ops endpoints, every
// kind of bad input with its HTTP status and OpenAI error body, backpressure
// (429), and that the router's gRPC answers what a worker answers directly.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type InfoResponse, MAX_STOP_BYTES, MAX_TENANT_BYTES, PARAM_METADATA } from '@chunkmesh/common';
import {
  expectStatus,
  generate,
  info,
  type RouterProcess,
  scrapeMetrics,
  startRouter,
  startWorker,
  tokenRun,
  uniqueCluster,
  waitFor,
} from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import { complete, type HttpReply, MODEL, openStream, post, TestCluster } from './cluster.ts';

const STORY =
  'Once upon a time, there was a little dog named Max who liked to run in the park with his friends';

function assertOpenAiError(
  r: HttpReply,
  status: number,
  code: string,
  param: string | null,
  what: string,
  beside: string[] = [],
) {
  assert.equal(r.status, status, `${what}: HTTP status (${r.text})`);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/, `${what}: JSON body`);
  assert.deepEqual(Object.keys(r.body ?? {}), ['error', ...beside], `${what}: {"error": {...}}`);
  const e = r.body.error;
  assert.deepEqual(Object.keys(e).sort(), ['code', 'message', 'param', 'type'], `${what}: error fields`);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0, `${what}: a message`);
  assert.equal(
    e.type,
    status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
  );
  assert.equal(e.code, code, `${what}: code`);
  assert.equal(e.param, param, `${what}: param`);
}

describe('router front doors', { timeout: 60_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;

  before(async () => {
    c = await TestCluster.start({ workers: 2, name: 'front' });
    router = await c.startRouter();
  });
  after(async () => {
    await c?.stop();
  });

  describe('OpenAI HTTP', () => {
    test('/v1/models lists the served model; /v1/models/{id} is its card', async () => {
      const r = await post(`${router.baseUrl}/v1/models`, null, 'GET');
      assert.equal(r.status, 200);
      assert.equal(r.body.object, 'list');
      const [card] = r.body.data;
      assert.deepEqual(Object.keys(card).sort(), ['created', 'id', 'max_model_len', 'object', 'owned_by']);
      assert.deepEqual(
        [card.id, card.object, card.owned_by, card.max_model_len],
        [MODEL, 'model', 'chunkmesh', 512],
      );
      const one = await post(`${router.baseUrl}/v1/models/${MODEL}`, null, 'GET');
      assert.deepEqual(one.body, card);
      const other = await post(`${router.baseUrl}/v1/models/gpt-4`, null, 'GET');
      assertOpenAiError(other, 404, 'not_found', null, 'unknown model card');
    });

    test('/healthz, /readyz and /metrics on the ops port', async () => {
      const health = await fetch(`${router.opsUrl}/healthz`);
      assert.equal(health.status, 200);
      const ready = await fetch(`${router.opsUrl}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { ready: true, liveWorkers: 2, incompatibleWorkers: [] });
      const res = await fetch(router.metricsUrl);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      const m = await scrapeMetrics(router.metricsUrl);
      assert.equal(m.value('chunkmesh_router_live_workers'), 2);
      for (const name of [
        'chunkmesh_router_decisions_total',
        'chunkmesh_router_retries_total',
        'chunkmesh_router_rejections_total',
        'chunkmesh_router_index_entries',
        'chunkmesh_router_event_lag_seconds',
        'chunkmesh_router_predicted_cached_tokens_total',
        'chunkmesh_router_realised_cached_tokens_total',
      ]) {
        assert.match(text, new RegExp(`# TYPE ${name} `), `exports ${name}`);
      }
      const post405 = await post(router.metricsUrl, {}, 'POST');
      assertOpenAiError(post405, 405, 'method_not_allowed', null, 'POST /metrics');
      // the ops endpoints are on the ops port only, never on the public API port
      for (const path of ['/metrics', '/healthz', '/readyz']) {
        assertOpenAiError(await post(`${router.baseUrl}${path}`, null, 'GET'), 404, 'not_found', null, path);
      }
    });

    test('a router with no live worker is not ready and answers 503', async () => {
      const lonely = c.track(await startRouter({ redisUrl: c.redis.url, cluster: uniqueCluster('empty') }));
      assert.equal((await fetch(`${lonely.opsUrl}/healthz`)).status, 200, 'alive');
      const ready = await post(`${lonely.opsUrl}/readyz`, null, 'GET');
      assertOpenAiError(ready, 503, 'unavailable', null, '/readyz', ['readiness']);
      assert.match(ready.body.error.message, /no live worker/);
      assert.deepEqual(ready.body.readiness, {
        ready: false,
        reason: 'no live worker in the cluster',
        liveWorkers: 0,
        incompatibleWorkers: [],
      });
      const r = await post(`${lonely.baseUrl}/v1/completions`, {
        model: MODEL,
        prompt: STORY,
        max_tokens: 4,
      });
      assertOpenAiError(r, 503, 'unavailable', null, 'no worker');
      assert.match(r.body.error.message, /no live worker/);
      await lonely.kill();
    });

    test('/v1/completions: JSON reply, usage with cached tokens from the second call on', async () => {
      const body = { model: MODEL, prompt: STORY, max_tokens: 8, temperature: 0 };
      const first = await post(`${router.baseUrl}/v1/completions`, body);
      assert.equal(first.status, 200, first.text);
      const r = first.body;
      assert.match(r.id, /^cmpl-/);
      assert.equal(r.object, 'text_completion');
      assert.equal(r.model, MODEL);
      assert.equal(typeof r.created, 'number');
      assert.ok(c.sortedIds().includes(first.headers.get('x-chunkmesh-worker') ?? ''), 'names the worker');
      assert.equal(r.choices.length, 1);
      assert.deepEqual(Object.keys(r.choices[0]).sort(), ['finish_reason', 'index', 'logprobs', 'text']);
      assert.equal(r.choices[0].finish_reason, 'length');
      assert.ok(r.choices[0].text.length > 0);
      const u = r.usage;
      assert.equal(u.completion_tokens, 8);
      assert.ok(u.prompt_tokens > 16, `prompt of ${u.prompt_tokens} tokens spans a full chunk`);
      assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
      assert.equal(typeof u.prompt_tokens_details.cached_tokens, 'number');
      const second = await post(`${router.baseUrl}/v1/completions`, body);
      assert.equal(second.status, 200);
      assert.equal(
        second.headers.get('x-chunkmesh-worker'),
        first.headers.get('x-chunkmesh-worker'),
        'same prompt, same worker',
      );
      assert.equal(second.body.system_fingerprint, r.system_fingerprint, 'one deployment');
      assert.equal(second.body.choices[0].text, r.choices[0].text, 'temperature 0 is deterministic');
      assert.equal(
        second.body.usage.prompt_tokens_details.cached_tokens,
        Math.floor((u.prompt_tokens - 1) / 16) * 16,
        'every full chunk of the prompt was cached',
      );
    });

    test('/v1/completions streaming: data: lines, [DONE], usage with cached tokens on the last chunk', async () => {
      const body = {
        model: MODEL,
        prompt: STORY,
        max_tokens: 8,
        temperature: 0,
        stream_options: { include_usage: true },
      };
      const whole = await complete(router, STORY, { max_tokens: 8 });
      // The raw wire format first.
      const res = await fetch(`${router.baseUrl}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ ...body, stream: true }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const raw = await res.text();
      assert.ok(raw.endsWith('data: [DONE]\n\n'), `ends with [DONE]: ${JSON.stringify(raw.slice(-40))}`);
      const frames = raw.split('\n\n').filter((f) => f !== '');
      for (const f of frames) assert.match(f, /^data: /, 'every frame is one data: line');
      const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)));
      assert.ok(chunks.length >= 2, 'deltas, then a final chunk');
      const id = chunks[0].id;
      assert.match(id, /^cmpl-/);
      for (const ch of chunks) {
        assert.equal(ch.id, id, 'one id for the whole stream');
        assert.equal(ch.object, 'text_completion');
        assert.equal(ch.model, MODEL);
      }
      const last = chunks[chunks.length - 1];
      assert.deepEqual(last.choices, [], 'usage comes in a chunk of its own');
      assert.equal(chunks[chunks.length - 2].choices[0].finish_reason, 'length');
      assert.ok(last.usage, 'the last chunk carries usage');
      assert.equal(last.usage.completion_tokens, 8);
      assert.equal(last.usage.prompt_tokens, whole.promptTokens);
      assert.equal(last.usage.prompt_tokens_details.cached_tokens, whole.cached);
      assert.ok(whole.cached > 0);
      for (const ch of chunks.slice(0, -2)) {
        assert.equal(ch.choices[0].finish_reason, null);
        assert.equal(ch.usage, null, 'usage only on the last chunk');
      }
      const text = chunks.map((ch) => ch.choices[0]?.text ?? '').join('');
      assert.equal(text, whole.text, 'streamed text = JSON text');
    });

    test('/v1/chat/completions, JSON and streaming', async () => {
      const body = {
        model: MODEL,
        messages: [
          { role: 'system', content: 'You tell short stories.' },
          { role: 'user', content: 'Tell me about a cat.' },
        ],
        max_tokens: 8,
        temperature: 0,
      };
      const r = await post(`${router.baseUrl}/v1/chat/completions`, body);
      assert.equal(r.status, 200, r.text);
      assert.match(r.body.id, /^chatcmpl-/);
      assert.equal(r.body.object, 'chat.completion');
      assert.equal(r.body.choices[0].message.role, 'assistant');
      assert.equal(typeof r.body.choices[0].message.content, 'string');
      assert.equal(r.body.choices[0].finish_reason, 'length');
      assert.equal(r.body.usage.completion_tokens, 8);

      const s = await openStream(`${router.baseUrl}/v1/chat/completions`, {
        ...body,
        stream: true,
        stream_options: { include_usage: true },
      });
      assert.equal(s.status, 200);
      assert.match(s.headers.get('content-type') ?? '', /^text\/event-stream/);
      const events = await s.rest();
      assert.equal(events[events.length - 1], '[DONE]');
      const chunks = events.slice(0, -1);
      assert.ok(chunks.every((ch) => ch.object === 'chat.completion.chunk'));
      assert.equal(chunks[0].choices[0].delta.role, 'assistant', 'the first delta names the role');
      const last = chunks[chunks.length - 1];
      const rest = chunks.slice(1, -1);
      assert.ok(rest.every((ch) => ch.choices[0].delta.role === undefined));
      const content = chunks.map((ch) => ch.choices[0]?.delta.content ?? '').join('');
      assert.equal(content, r.body.choices[0].message.content, 'streamed content = JSON content');
      assert.equal(rest.at(-1).choices[0].finish_reason, 'length');
      assert.equal(last.usage.prompt_tokens, r.body.usage.prompt_tokens);
      assert.ok(
        last.usage.prompt_tokens_details.cached_tokens > 0,
        'the chat prompt was cached by the JSON call',
      );
    });

    test('bad requests: HTTP status and OpenAI error shape', async () => {
      const url = `${router.baseUrl}/v1/completions`;
      const chat = `${router.baseUrl}/v1/chat/completions`;
      const ok = { model: MODEL, prompt: STORY, max_tokens: 4 };
      assertOpenAiError(
        await post(url, '{"model": "stories'),
        400,
        'invalid_argument',
        null,
        'malformed JSON',
      );
      assertOpenAiError(
        await post(url, '[1, 2]'),
        400,
        'invalid_argument',
        null,
        'JSON that is not an object',
      );
      assertOpenAiError(
        await post(url, { prompt: STORY }),
        400,
        'invalid_argument',
        'model',
        'missing model',
      );
      assertOpenAiError(await post(url, { ...ok, model: 'gpt-4' }), 404, 'not_found', null, 'unknown model');
      assertOpenAiError(
        await post(url, { model: MODEL }),
        400,
        'invalid_argument',
        'prompt',
        'missing prompt',
      );
      assertOpenAiError(
        await post(url, { ...ok, prompt: 42 }),
        400,
        'invalid_argument',
        'prompt',
        'prompt a number',
      );
      assertOpenAiError(
        await post(chat, { model: MODEL }),
        400,
        'invalid_argument',
        'messages',
        'missing messages',
      );
      assertOpenAiError(
        await post(chat, { model: MODEL, messages: [] }),
        400,
        'invalid_argument',
        'messages',
        'no messages',
      );
      assertOpenAiError(
        await post(chat, { model: MODEL, messages: [{ content: 'hi' }] }),
        400,
        'invalid_argument',
        'messages',
        'message without a role',
      );
      assertOpenAiError(
        await post(url, { ...ok, temperature: 5 }),
        400,
        'invalid_argument',
        'temperature',
        'temperature 5',
      );
      assertOpenAiError(
        await post(url, { ...ok, top_p: 1.5 }),
        400,
        'invalid_argument',
        'top_p',
        'top_p 1.5',
      );
      assertOpenAiError(
        await post(url, { ...ok, max_tokens: 0 }),
        400,
        'invalid_argument',
        'max_tokens',
        'max_tokens 0',
      );
      assertOpenAiError(
        await post(url, { ...ok, max_tokens: 2.5 }),
        400,
        'invalid_argument',
        'max_tokens',
        'max_tokens 2.5',
      );
      assertOpenAiError(await post(url, { ...ok, n: 17 }), 400, 'invalid_argument', 'n', 'n = 17');
      assertOpenAiError(
        await post(url, { ...ok, stream: 'yes' }),
        400,
        'invalid_argument',
        'stream',
        'stream "yes"',
      );
      // Checked by the router before it places the request (and again by the worker): 400.
      const long = await post(url, { ...ok, max_tokens: 600 });
      assertOpenAiError(long, 400, 'invalid_argument', 'max_tokens', 'max_tokens past the context');
      assert.match(long.body.error.message, /exceeds the model's context of 512/);
      const longChat = await post(chat, {
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 600,
      });
      assertOpenAiError(longChat, 400, 'invalid_argument', 'max_tokens', 'chat max_tokens past the context');
      // Token ids outside the vocabulary: the router's check too.
      const vocab = await post(url, { ...ok, prompt: [1, 5, 9999] });
      assertOpenAiError(vocab, 400, 'invalid_argument', 'token_ids', 'token id outside the vocabulary');
      assert.match(vocab.body.error.message, /outside the vocabulary/);
    });

    test('wrong method is 405 (with Allow), unknown path is 404', async () => {
      for (const path of ['/v1/completions', '/v1/chat/completions']) {
        const r = await post(`${router.baseUrl}${path}`, null, 'GET');
        assertOpenAiError(r, 405, 'method_not_allowed', null, `GET ${path}`);
        assert.equal(r.headers.get('allow'), 'POST');
      }
      const models = await post(`${router.baseUrl}/v1/models`, {}, 'POST');
      assertOpenAiError(models, 405, 'method_not_allowed', null, 'POST /v1/models');
      assert.match(models.headers.get('allow') ?? '', /GET/);
      for (const path of ['/v1/embeddings', '/', '/v2/completions']) {
        assertOpenAiError(await post(`${router.baseUrl}${path}`, {}), 404, 'not_found', null, `POST ${path}`);
      }
    });

    test('a client that goes away cancels the generation on the worker and frees its in-flight slot', async () => {
      const limited = await c.startRouter(['--max-inflight', '1']);
      const cancelled = async () => {
        let n = 0;
        for (const w of c.workers) {
          n += (await scrapeMetrics(w.metricsUrl)).value('chunkmesh_requests_finished_total', {
            reason: 'cancelled',
          });
        }
        return n;
      };
      const long = { model: MODEL, prompt: STORY, max_tokens: 450, ignore_eos: true, temperature: 0 };
      const cancelled0 = await cancelled();
      // Streaming: read the first event, then hang up.
      const ac = new AbortController();
      const res = await fetch(`${limited.baseUrl}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ ...long, stream: true }),
        signal: ac.signal,
      });
      assert.equal(res.status, 200);
      await res.body?.getReader().read();
      ac.abort();
      await waitFor(
        'the worker to cancel the stream',
        async () => (await cancelled()) === cancelled0 + 1,
        5_000,
      );
      // Non-streaming: hang up while the worker generates.
      const ac2 = new AbortController();
      const pending = fetch(`${limited.baseUrl}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify(long),
        signal: ac2.signal,
      }).catch((err: Error) => err);
      await waitFor(
        'the request to reach a worker',
        async () => (await scrapeMetrics(limited.metricsUrl)).value('chunkmesh_router_decisions_total') >= 2,
        5_000,
        10,
      );
      await sleep(50);
      ac2.abort();
      assert.equal(((await pending) as Error).name, 'AbortError');
      await waitFor(
        'the worker to cancel the request',
        async () => (await cancelled()) === cancelled0 + 2,
        5_000,
      );
      // Both in-flight slots were given back: the limit of 1 admits the next request.
      await complete(limited, STORY);
      await limited.kill();
    });

    test('RESOURCE_EXHAUSTED is 429: a router at its in-flight limit', async () => {
      const limited = await c.startRouter(['--max-inflight', '1']);
      const rejected0 = (await scrapeMetrics(limited.metricsUrl)).value('chunkmesh_router_rejections_total', {
        reason: 'router_inflight',
      });
      // Freeze the workers so the first request stays in flight (well within the heartbeat TTL).
      for (const w of c.workers) w.signal('SIGSTOP');
      let held: Promise<HttpReply> | undefined;
      try {
        held = post(`${limited.baseUrl}/v1/completions`, { model: MODEL, prompt: STORY, max_tokens: 4 });
        await sleep(150);
        const r = await post(`${limited.baseUrl}/v1/completions`, {
          model: MODEL,
          prompt: STORY,
          max_tokens: 4,
        });
        assertOpenAiError(r, 429, 'resource_exhausted', null, 'second request over --max-inflight 1');
        assert.match(r.body.error.message, /in flight/);
      } finally {
        for (const w of c.workers) w.signal('SIGCONT');
      }
      const first = await held;
      assert.equal(first.status, 200, `the held request completes once the workers run: ${first.text}`);
      const m = await scrapeMetrics(limited.metricsUrl);
      assert.equal(
        m.value('chunkmesh_router_rejections_total', { reason: 'router_inflight' }) - rejected0,
        1,
      );
      // And it takes requests again.
      await complete(limited, STORY);
      await limited.kill();
    });
  });

  test('RESOURCE_EXHAUSTED from every worker is 429: retried across workers, then refused', async () => {
    // Two workers of another cluster with a 4-chunk KV pool: 80 tokens can never fit on either.
    const tiny = uniqueCluster('tiny');
    const workers = await Promise.all(
      [0, 1].map(async () =>
        c.track(
          await startWorker({
            redisUrl: c.redis.url,
            cluster: tiny,
            args: ['--kv-capacity-tokens', '64'],
          }),
        ),
      ),
    );
    const r = c.track(await startRouter({ redisUrl: c.redis.url, cluster: tiny }));
    await waitFor(
      'the router to see both tiny workers',
      async () => (await scrapeMetrics(r.metricsUrl)).value('chunkmesh_router_live_workers') === 2,
    );
    const small = await complete(r, [1, ...tokenRun(5, 20)], { max_tokens: 8 });
    assert.equal(small.completionTokens, 8, 'what fits is served');
    const big = await post(`${r.baseUrl}/v1/completions`, { model: MODEL, prompt: STORY, max_tokens: 60 });
    assertOpenAiError(big, 429, 'resource_exhausted', null, 'fits on no worker');
    assert.match(big.body.error.message, /every worker tried is at capacity/);
    const m = await scrapeMetrics(r.metricsUrl);
    assert.equal(
      m.value('chunkmesh_router_retries_total', { code: 'RESOURCE_EXHAUSTED' }),
      1,
      'tried the other',
    );
    assert.equal(m.value('chunkmesh_router_rejections_total', { reason: 'workers_full' }), 1);
    // Load is not failure: no circuit opened, both still serve.
    const after = await Promise.all(
      [0, 1].map((i) => complete(r, [1, ...tokenRun(6 + i, 20)], { max_tokens: 4 })),
    );
    assert.ok(after.every((a) => workers.some((w) => w.workerId === a.workerId)));
    await Promise.all([r.kill(), ...workers.map((w) => w.kill())]);
  });

  describe('limits: what a request may make the router and workers hold', () => {
    const decisions = async (r: RouterProcess) =>
      (await scrapeMetrics(r.metricsUrl)).value('chunkmesh_router_decisions_total');

    test('tenant, session id (or user) and stop strings are capped, on HTTP and gRPC alike', async () => {
      const url = `${router.baseUrl}/v1/completions`;
      const ok = { model: MODEL, prompt: STORY, max_tokens: 2 };
      const over = 'x'.repeat(MAX_TENANT_BYTES + 1);
      for (const [field, param, value] of [
        ['tenant', 'tenant', over],
        ['session_id', 'session_id', over],
        ['user', 'user', 'u'.repeat(1 << 20)],
        ['stop', 'stop', ['.', 's'.repeat(MAX_STOP_BYTES + 1)]],
      ] as const) {
        const r = await post(url, { ...ok, [field]: value });
        assertOpenAiError(r, 400, 'invalid_argument', param, `${field} over its cap`);
      }
      const at = await post(url, { ...ok, tenant: over.slice(1), user: over.slice(1) });
      assert.equal(at.status, 200, `at the caps: ${at.text}`);
      const front = c.client(router.address);
      for (const [req, param] of [
        [{ tenant: over }, 'tenant'],
        [{ sessionId: over }, 'session_id'],
        [{ sampling: { stop: ['s'.repeat(MAX_STOP_BYTES + 1)] } }, 'stop'],
      ] as const) {
        const err = await expectStatus(front, { text: STORY, ...req }, grpc.status.INVALID_ARGUMENT, /bytes/);
        assert.deepEqual(err.metadata.get(PARAM_METADATA), [param]);
      }
    });

    test('a prompt past the context is refused before placement, whatever its form; never a 429', async () => {
      const before = await decisions(router);
      // A million token ids (2 MB of JSON, inside the body limit).
      const huge = `{"model":"${MODEL}","prompt":[${'1,'.repeat(999_999)}1],"max_tokens":1}`;
      const r = await post(`${router.baseUrl}/v1/completions`, huge);
      assertOpenAiError(r, 400, 'invalid_argument', 'max_tokens', 'a million token ids');
      assert.match(r.body.error.message, /prompt \(1000000 tokens\)/);
      const front = c.client(router.address);
      await expectStatus(
        front,
        { tokenIds: { ids: Array(100_000).fill(1) } },
        grpc.status.INVALID_ARGUMENT,
        /leaves no room in the model's context/,
      );
      await expectStatus(
        front,
        { tokenIds: { ids: Array(512).fill(1) } },
        grpc.status.INVALID_ARGUMENT,
        /leaves no room/,
      );
      // Text past what any tokenizer could fit in the context is refused before it is tokenised.
      const text = await post(`${router.baseUrl}/v1/completions`, {
        model: MODEL,
        prompt: 'a'.repeat(1 << 20),
      });
      assertOpenAiError(text, 400, 'invalid_argument', 'prompt', 'a megabyte of prompt text');
      assert.equal(await decisions(router), before, 'none of them was placed');
    });

    test('one size limit for both doors: 413 on HTTP, RESOURCE_EXHAUSTED on gRPC', async () => {
      const small = await c.startRouter(['--max-body-bytes', '65536']);
      const body = { model: MODEL, prompt: STORY, max_tokens: 2, tenant: 'x', pad: 'p'.repeat(70_000) };
      const r = await post(`${small.baseUrl}/v1/completions`, body);
      assertOpenAiError(r, 413, 'payload_too_large', null, 'a body past --max-body-bytes');
      assert.equal(r.headers.get('connection'), 'close', 'the unread rest ends the connection');
      // Without a content-length (chunked), the limit holds as the body streams in.
      const chunked = await fetch(`${small.baseUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Blob([JSON.stringify(body)]).stream(),
        duplex: 'half',
      } as RequestInit);
      assert.equal(chunked.status, 413);
      assert.equal(((await chunked.json()) as { error: { code: string } }).error.code, 'payload_too_large');
      await expectStatus(
        c.client(small.address),
        { text: 'x'.repeat(70_000) },
        grpc.status.RESOURCE_EXHAUSTED,
        /larger than max/,
      );
      // Under the limit, both doors serve.
      assert.equal((await post(`${small.baseUrl}/v1/completions`, { ...body, pad: 'p' })).status, 200);
      await small.kill();
    });

    test('top_p 0, NaN and infinities are refused on gRPC as on HTTP', async () => {
      const url = `${router.baseUrl}/v1/completions`;
      assertOpenAiError(
        await post(url, { model: MODEL, prompt: STORY, top_p: 0 }),
        400,
        'invalid_argument',
        'top_p',
        'top_p 0',
      );
      const front = c.client(router.address);
      for (const [sampling, param] of [
        [{ topP: 0 }, 'top_p'],
        [{ topP: Number.NaN }, 'top_p'],
        [{ topP: Number.POSITIVE_INFINITY }, 'top_p'],
        [{ temperature: Number.NaN }, 'temperature'],
        [{ temperature: Number.POSITIVE_INFINITY }, 'temperature'],
      ] as const) {
        const err = await expectStatus(
          front,
          { text: STORY, sampling },
          grpc.status.INVALID_ARGUMENT,
          /must be/,
        );
        assert.deepEqual(err.metadata.get(PARAM_METADATA), [param], JSON.stringify(sampling));
      }
      // Left unset, top_p is 1: sampling at temperature 1 works.
      const ok = await generate(front, {
        text: STORY,
        sampling: { temperature: 1, maxTokens: 4, seed: '7' },
      });
      assert.equal(ok.final.finishReason, 'FINISH_REASON_LENGTH');
    });
  });

  describe('gRPC', () => {
    test('Generate through the router equals Generate on a worker, at temperature 0', async () => {
      const front = c.client(router.address);
      const direct = c.client(c.worker(c.sortedIds()[0] ?? '').address);
      const requests = [
        { tokenIds: { ids: [1, ...tokenRun(11, 40)] }, sampling: { maxTokens: 24 } },
        { text: STORY, sampling: { maxTokens: 24 } },
        {
          messages: [{ role: 'user', content: 'Tell me a story about a frog.' }],
          sampling: { maxTokens: 16 },
        },
        { text: 'Lily and Tom', sampling: { maxTokens: 24, stop: ['.'] } },
      ];
      for (const req of requests) {
        const [viaRouter, onWorker] = await Promise.all([generate(front, req), generate(direct, req)]);
        const what = JSON.stringify(req).slice(0, 60);
        assert.deepEqual(viaRouter.ids, onWorker.ids, `${what}: same tokens`);
        assert.equal(viaRouter.text, onWorker.text, `${what}: same text`);
        assert.equal(viaRouter.final.finishReason, onWorker.final.finishReason);
        assert.equal(viaRouter.final.usage?.promptTokens, onWorker.final.usage?.promptTokens);
        assert.equal(viaRouter.final.usage?.completionTokens, onWorker.final.usage?.completionTokens);
        assert.ok(c.sortedIds().includes(viaRouter.final.workerId), 'final names the worker');
        assert.equal(viaRouter.afterFinal, 0);
      }
    });

    test('each door times a request from arrival to forward once (chunkmesh_router_forward_seconds)', async () => {
      const name = 'chunkmesh_router_forward_seconds';
      const before = await scrapeMetrics(router.metricsUrl);
      const http = await post(`${router.baseUrl}/v1/completions`, {
        model: MODEL,
        prompt: 'Lily and Tom',
        max_tokens: 2,
      });
      assert.equal(http.status, 200);
      await generate(c.client(router.address), { text: 'Lily and Tom', sampling: { maxTokens: 2 } });
      // a refused request is never forwarded, so it is not timed
      await expectStatus(
        c.client(router.address),
        { tokenIds: { ids: [] } },
        grpc.status.INVALID_ARGUMENT,
        /empty/,
      );
      const after = await scrapeMetrics(router.metricsUrl);
      for (const door of ['http', 'grpc']) {
        const count = (m: typeof after) => m.value(`${name}_count`, { door });
        assert.equal(count(after) - count(before), 1, `${door}: one request timed`);
        const seconds = after.value(`${name}_sum`, { door }) - before.value(`${name}_sum`, { door });
        assert.ok(seconds > 0 && seconds < 5, `${door}: ${seconds} s from arrival to forward`);
        if (door === 'http') {
          // the same time, to the client: Server-Timing in milliseconds, with the stages it adds up from
          const header = http.headers.get('server-timing') ?? '';
          const timing = header.split(', ').map((m) => /^(\w+);dur=(\d+\.\d{3})$/.exec(m));
          assert.deepEqual(
            timing.map((m) => m?.[1]),
            ['forward', 'body', 'prompt', 'place', 'call'],
            `server-timing: ${header}`,
          );
          const [forward, ...stages] = timing.map((m) => Number(m?.[2]));
          assert.ok(Math.abs((forward as number) - seconds * 1000) < 0.002, `${forward} ms vs ${seconds} s`);
          const sum = stages.reduce((a, b) => a + b, 0);
          assert.ok(
            Math.abs(sum - (forward as number)) < 0.003,
            `the stages add up to ${sum} ms, not ${forward}`,
          );
        }
      }
    });

    test('Info aggregates capacity over the live workers', async () => {
      const front = c.client(router.address);
      const mine = await info(front);
      const theirs: InfoResponse[] = await Promise.all(c.workers.map((w) => info(c.client(w.address))));
      const w0 = theirs[0] as InfoResponse;
      assert.equal(mine.modelId, MODEL);
      assert.equal(mine.chunkTokens, 16);
      assert.equal(mine.workerId, '', 'the router is no worker');
      assert.equal(
        mine.capacityChunks,
        theirs.reduce((n, w) => n + w.capacityChunks, 0),
      );
      assert.ok(mine.capacityChunks > 0);
      assert.deepEqual(
        [mine.tokenizerId, mine.vocabSize, mine.maxSeqLen],
        [w0.tokenizerId, w0.vocabSize, w0.maxSeqLen],
      );
    });

    test('statuses through the router: the worker INVALID_ARGUMENT, the router its own', async () => {
      const front = c.client(router.address);
      await expectStatus(
        front,
        { text: STORY, sampling: { maxTokens: 600 } },
        grpc.status.INVALID_ARGUMENT,
        /exceeds the model's context/,
      );
      await expectStatus(front, { tokenIds: { ids: [] } }, grpc.status.INVALID_ARGUMENT, /prompt is empty/);
      await expectStatus(
        front,
        { text: 'x', messages: [{ role: 'user', content: 'y' }] },
        grpc.status.INVALID_ARGUMENT,
        /not both/,
      );
    });
  });
});
