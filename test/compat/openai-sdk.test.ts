// The router's OpenAI HTTP API driven by the official `openai` npm SDK, as
// client code uses it: completions, chat, streaming with and without usage,
// models, typed errors with their param, retries (429/503 honour retry-after,
// a timeout is not retried) and abort.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type RouterProcess,
  scrapeMetrics,
  startRouter,
  uniqueCluster,
  waitFor,
} from '@chunkmesh/test-support';
import OpenAI from 'openai';
import { MODEL, TestCluster } from '../router/cluster.ts';
import { apiError } from './api-error.ts';

const PROMPT = 'Once upon a time, there was a little dog named Max who liked to run';
const CHAT = [
  { role: 'system' as const, content: 'You tell short stories.' },
  { role: 'user' as const, content: 'Tell me about a cat.' },
];

function sdk(router: RouterProcess, options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI {
  return new OpenAI({ baseURL: `${router.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0, ...options });
}

describe('OpenAI SDK against the router', { timeout: 90_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;
  let client: OpenAI;

  before(async () => {
    c = await TestCluster.start({ workers: 1, name: 'sdk' });
    router = await c.startRouter();
    client = sdk(router);
  });
  after(async () => {
    await c?.stop();
  });

  test('completions and chat: JSON replies, request id, one fingerprint for the deployment', async () => {
    const { data, response, request_id } = await client.completions
      .create({ model: MODEL, prompt: PROMPT, max_tokens: 6, temperature: 0 })
      .withResponse();
    assert.equal(data.object, 'text_completion');
    assert.equal(data.usage?.completion_tokens, 6);
    assert.match(request_id ?? '', /\S/, 'x-request-id on the reply');
    assert.equal(response.headers.get('x-request-id'), request_id);
    assert.match(data.system_fingerprint ?? '', /^fp_[0-9a-f]+$/);
    assert.notEqual(data.system_fingerprint, c.workers[0]?.workerId, 'the deployment, not the worker');

    const chat = await client.chat.completions.create({ model: MODEL, messages: CHAT, max_tokens: 5 });
    assert.equal(chat.object, 'chat.completion');
    assert.equal(chat.choices[0]?.message.role, 'assistant');
    assert.equal(chat.usage?.completion_tokens, 5);
    assert.equal(chat.system_fingerprint, data.system_fingerprint);
  });

  test("the client's x-request-id is kept", async () => {
    const { request_id } = await client.completions
      .create(
        { model: MODEL, prompt: PROMPT, max_tokens: 1 },
        { headers: { 'x-request-id': 'req-from-client-42' } },
      )
      .withResponse();
    assert.equal(request_id, 'req-from-client-42');
  });

  test('streaming without include_usage: no usage anywhere; text equals the JSON reply', async () => {
    const body = { model: MODEL, messages: CHAT, max_tokens: 8, temperature: 0 };
    const whole = await client.chat.completions.create(body);
    const chunks = [];
    for await (const chunk of await client.chat.completions.create({ ...body, stream: true }))
      chunks.push(chunk);
    assert.ok(chunks.length >= 2);
    for (const ch of chunks) {
      assert.equal('usage' in ch, false, 'no usage field without stream_options.include_usage');
      assert.equal(ch.system_fingerprint, whole.system_fingerprint, 'fingerprint in every chunk');
      assert.equal(ch.choices.length, 1);
    }
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'length');
    const text = chunks.map((ch) => ch.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, whole.choices[0]?.message.content);
  });

  test('streaming with include_usage: usage null on every chunk, then one chunk with choices [] and usage', async () => {
    const stream = await client.completions.create({
      model: MODEL,
      prompt: PROMPT,
      max_tokens: 7,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    assert.ok(last);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage?.completion_tokens, 7);
    assert.equal(last.usage?.total_tokens, (last.usage?.prompt_tokens ?? 0) + 7);
    for (const ch of chunks.slice(0, -1)) {
      assert.equal(ch.usage, null);
      assert.equal(ch.choices.length, 1);
    }
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'length');
  });

  test('models.list and models.retrieve: the model card with max_model_len and a real created', async () => {
    const list = await client.models.list();
    const ids = list.data.map((m) => m.id);
    assert.deepEqual(ids, [MODEL]);
    const card = (await client.models.retrieve(MODEL)) as OpenAI.Model & { max_model_len?: number };
    assert.equal(card.id, MODEL);
    assert.equal(card.object, 'model');
    assert.equal(card.max_model_len, 512);
    assert.ok(card.created > 1_600_000_000, `created is a real time: ${card.created}`);
    assert.deepEqual(list.data[0], card);
    const missing = await apiError(client.models.retrieve('gpt-4'));
    assert.ok(missing instanceof OpenAI.NotFoundError);
  });

  test('typed errors keep their param, from the router and from the worker', async () => {
    const hot = await apiError(client.completions.create({ model: MODEL, prompt: PROMPT, temperature: 2.5 }));
    assert.ok(hot instanceof OpenAI.BadRequestError);
    assert.equal(hot.param, 'temperature');
    // The context length is the worker's check: its param crosses gRPC.
    const long = await apiError(client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 600 }));
    assert.ok(long instanceof OpenAI.BadRequestError);
    assert.equal(long.param, 'max_tokens');
    assert.match(long.message, /exceeds the model's context of 512/);
    const model = await apiError(client.completions.create({ model: 'gpt-4', prompt: PROMPT }));
    assert.ok(model instanceof OpenAI.NotFoundError);
  });

  test('seed: the whole int64 range, the same seed the same text', async () => {
    const max = '9223372036854775807';
    const min = '-9223372036854775808';
    const texts = [];
    for (const seed of [max, max, min]) {
      // The SDK sends numbers; JSON.parse would round these, so they go as raw JSON.
      const res = await fetch(`${router.baseUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"model": "${MODEL}", "prompt": "${PROMPT}", "max_tokens": 12, "temperature": 1, "seed": ${seed}}`,
      });
      assert.equal(res.status, 200, await res.clone().text());
      texts.push(((await res.json()) as { choices: { text: string }[] }).choices[0]?.text);
    }
    assert.equal(texts[0], texts[1]);
    const over = await apiError(
      client.completions.create({ model: MODEL, prompt: PROMPT, seed: 2 ** 64 } as never),
    );
    assert.equal(over.param, 'seed');
  });

  test('abort: the SDK hanging up cancels the generation on the worker', async () => {
    const cancelled = async () =>
      (await scrapeMetrics(c.workers[0]?.metricsUrl ?? '')).value('chunkmesh_requests_finished_total', {
        reason: 'cancelled',
      });
    const before0 = await cancelled();
    const ac = new AbortController();
    const stream = await client.completions.create(
      { model: MODEL, prompt: PROMPT, max_tokens: 400, ignore_eos: true, stream: true } as never,
      { signal: ac.signal },
    );
    for await (const _ of stream as unknown as AsyncIterable<unknown>) {
      ac.abort();
    }
    await waitFor('the worker to cancel', async () => (await cancelled()) === before0 + 1, 5_000);
  });

  test('503 with retry-after: the SDK retries, then reports it', async () => {
    const lonely = c.track(await startRouter({ redisUrl: c.redis.url, cluster: uniqueCluster('nobody') }));
    const res = await fetch(`${lonely.baseUrl}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: MODEL, prompt: PROMPT }),
    });
    assert.equal(res.status, 503);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    const err = await apiError(
      sdk(lonely, { maxRetries: 2 }).completions.create({ model: MODEL, prompt: PROMPT }),
    );
    assert.equal(err.status, 503);
    const m = await scrapeMetrics(lonely.metricsUrl);
    assert.equal(
      m.value('chunkmesh_router_rejections_total', { reason: 'no_worker' }),
      4,
      'one fetch, three SDK tries',
    );
    await lonely.kill();
  });

  test('a timeout is 504 "timeout", which the SDK does not retry', async () => {
    const slow = await c.startRouter(['--request-timeout-ms', '60']);
    const decisions = async () =>
      (await scrapeMetrics(slow.metricsUrl)).value('chunkmesh_router_decisions_total');
    const long = { model: MODEL, prompt: PROMPT, max_tokens: 480, ignore_eos: true, temperature: 0 };
    const err = await apiError(sdk(slow, { maxRetries: 2 }).completions.create(long as never));
    assert.equal(err.status, 504);
    assert.equal(err.code, 'timeout');
    assert.equal(await decisions(), 1, 'tried once');
    // Streaming: the headers are out, so the stream ends with the same error.
    const stream = await sdk(slow).completions.create({ ...long, stream: true } as never);
    const streamed = await (async () => {
      for await (const _ of stream as unknown as AsyncIterable<unknown>) {
        // read on
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(streamed instanceof OpenAI.APIError, `stream error: ${String(streamed)}`);
    assert.match(streamed.message, /deadline|timed out|timeout/i);
    await slow.kill();
  });
});
