// The worker process refuses every kind of bad request with a status that
// says what is wrong, before any token, and keeps serving: INVALID_ARGUMENT
// for the request itself, RESOURCE_EXHAUSTED for a request that can never fit
// in the KV pool and for a full wait queue.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createGenerationClient,
  type GenerateRequest,
  type GenerationClient,
  type Init,
} from '@chunkmesh/common';
import {
  collect,
  expectStatus,
  generate,
  healthCheck,
  info,
  startWorker,
  type WorkerProcess,
} from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';

const BOS = 1;
const VOCAB = 512;
const CONTEXT = 512;
const { INVALID_ARGUMENT, RESOURCE_EXHAUSTED } = grpc.status;

/** Still alive and answering Info, health and a small Generate. */
async function assertServing(worker: WorkerProcess, client: GenerationClient): Promise<void> {
  assert.ok(worker.running, worker.describe());
  assert.equal((await info(client)).workerId, worker.workerId);
  assert.equal(await healthCheck(worker.address), 'SERVING');
  const r = await generate(client, { tokenIds: { ids: [BOS] }, sampling: { maxTokens: 5 } });
  assert.equal(r.ids.length, 5);
}

describe('worker process: bad requests get INVALID_ARGUMENT', () => {
  let worker: WorkerProcess | undefined;
  let client: GenerationClient;

  before(async () => {
    worker = await startWorker();
    client = createGenerationClient(worker.address);
  });

  after(async () => {
    client?.close();
    await worker?.kill();
  });

  const cases: [string, Init<GenerateRequest>, RegExp][] = [
    ['no prompt at all', { sampling: { maxTokens: 5 } }, /prompt is empty/],
    ['an empty text prompt', { text: '' }, /prompt is empty/],
    ['an empty token id list', { tokenIds: { ids: [] } }, /prompt is empty/],
    [
      'a text prompt too large to tokenise (refused before tokenising)',
      { text: 'a'.repeat(512 * 32 + 1) },
      /prompt text of 16385 bytes cannot fit the model's context of 512 tokens/,
    ],
    [
      'a token id outside the vocabulary',
      { tokenIds: { ids: [BOS, 5, VOCAB] } },
      /token id 512 at position 2 is outside the vocabulary \[0, 512\)/,
    ],
    ['a huge token id', { tokenIds: { ids: [0xffffffff] } }, /token id 4294967295 .*outside the vocabulary/],
    [
      'prompt plus max_tokens beyond the context',
      { tokenIds: { ids: Array.from({ length: 300 }, () => BOS) }, sampling: { maxTokens: 213 } },
      /prompt \(300 tokens\) plus max_tokens \(213\) exceeds the model's context of 512/,
    ],
    [
      'max_tokens alone beyond the context',
      { tokenIds: { ids: [BOS] }, sampling: { maxTokens: CONTEXT } },
      /exceeds the model's context of 512/,
    ],
    [
      'a default max_tokens that no longer fits a long prompt',
      { tokenIds: { ids: Array.from({ length: 400 }, () => BOS) } },
      /prompt \(400 tokens\) plus max_tokens \(256\) exceeds/,
    ],
    ['a negative temperature', { tokenIds: { ids: [BOS] }, sampling: { temperature: -0.5 } }, /temperature/],
    ['a NaN temperature', { tokenIds: { ids: [BOS] }, sampling: { temperature: Number.NaN } }, /temperature/],
    ['a huge temperature', { tokenIds: { ids: [BOS] }, sampling: { temperature: 1e6 } }, /temperature/],
    ['top_p above 1', { tokenIds: { ids: [BOS] }, sampling: { topP: 1.5 } }, /top_p must be in \(0, 1\]/],
    ['a negative top_p', { tokenIds: { ids: [BOS] }, sampling: { topP: -0.1 } }, /top_p/],
    [
      'top_k above the vocabulary',
      { tokenIds: { ids: [BOS] }, sampling: { topK: VOCAB + 1 } },
      /top_k must be at most the vocabulary size 512/,
    ],
    [
      'a stop token id outside the vocabulary',
      { tokenIds: { ids: [BOS] }, sampling: { stopTokenIds: [VOCAB] } },
      /stop token id 512/,
    ],
    [
      'more than 16 stop strings',
      { tokenIds: { ids: [BOS] }, sampling: { stop: Array.from({ length: 17 }, (_, i) => `s${i}`) } },
      /at most 16 stop strings/,
    ],
    [
      'both a prompt and messages',
      { text: 'Once upon a time', messages: [{ role: 'user', content: 'hi' }] },
      /either a prompt .* or messages, not both/,
    ],
    [
      'both token ids and messages',
      { tokenIds: { ids: [BOS] }, messages: [{ role: 'user', content: 'hi' }] },
      /not both/,
    ],
    ['a message without a role', { messages: [{ role: '', content: 'hi' }] }, /role/],
  ];

  for (const [what, request, message] of cases) {
    it(`refuses ${what}`, async () => {
      await expectStatus(client, request, INVALID_ARGUMENT, message);
      assert.ok(worker?.running, worker?.describe());
    });
  }

  it('refuses them all at once, concurrently, and keeps serving', async () => {
    await Promise.all(
      cases.map(([, request, message]) => expectStatus(client, request, INVALID_ARGUMENT, message)),
    );
    await assertServing(worker as WorkerProcess, client);
  });

  it('takes a chat (messages alone) and the edge values that are valid', async () => {
    const chat = await generate(client, {
      messages: [{ role: 'user', content: 'Tell me a story.' }],
      sampling: { maxTokens: 5, ignoreEos: true },
    });
    assert.equal(chat.ids.length, 5);
    const edge = await generate(client, {
      tokenIds: { ids: [BOS, VOCAB - 1] },
      sampling: {
        temperature: 2,
        topK: VOCAB,
        topP: 1,
        maxTokens: CONTEXT - 2,
        seed: '7',
        ignoreEos: true,
      },
    });
    assert.equal(edge.final.finishReason, 'FINISH_REASON_LENGTH');
    assert.equal(edge.ids.length, CONTEXT - 2);
    await assertServing(worker as WorkerProcess, client);
  });
});

describe('worker process: RESOURCE_EXHAUSTED', () => {
  let worker: WorkerProcess | undefined;
  let client: GenerationClient;

  before(async () => {
    // 16 chunks of 16 tokens, one request at a time, one waiting at most
    worker = await startWorker({
      args: ['--kv-capacity-tokens', '256', '--max-batch', '1', '--max-queue', '1'],
    });
    client = createGenerationClient(worker.address);
  });

  after(async () => {
    client?.close();
    await worker?.kill();
  });

  it('for a request that could never fit in the KV pool', async () => {
    await expectStatus(
      client,
      { tokenIds: { ids: [BOS] }, sampling: { maxTokens: 300 } },
      RESOURCE_EXHAUSTED,
      /prompt plus max tokens need 19 KV chunks; the pool holds 16/,
    );
    await assertServing(worker as WorkerProcess, client);
  });

  it('for a request arriving when the wait queue is full', async () => {
    // one running (the pool's worth of tokens), one waiting, the third refused
    let started!: () => void;
    const firstToken = new Promise<void>((resolve) => {
      started = resolve;
    });
    const first = collect(
      client.generate({ tokenIds: { ids: [BOS] }, sampling: { maxTokens: 255, ignoreEos: true } }),
      () => started(),
    );
    await Promise.race([firstToken, first]);
    const waiting = generate(client, {
      tokenIds: { ids: [BOS] },
      sampling: { maxTokens: 20, ignoreEos: true },
    });
    await expectStatus(
      client,
      { tokenIds: { ids: [BOS] }, sampling: { maxTokens: 20 } },
      RESOURCE_EXHAUSTED,
      /wait queue full \(1 requests\)/,
    );
    const [a, b] = await Promise.all([first, waiting]);
    assert.equal(a.ids.length, 255);
    assert.equal(b.ids.length, 20);
    await assertServing(worker as WorkerProcess, client);
  });
});
