// Structured output, tools, logprobs and n > 1 through the router's two doors
// (the official openai SDK over HTTP, a gRPC client), against real router and
// worker processes on stories260K (a real llama2.c model and tokenizer, no
// chat template: chunkmesh's fallback tool format). Every response under a
// JSON schema must parse and validate (ajv); tool_choice required must yield a
// valid call; every previously ignored parameter works or is a 400 naming it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadLlama2cTokenizer, type Tokenizer } from '@chunkmesh/model';
import { collect, type RouterProcess, TOKENIZER } from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { MODEL, TestCluster } from '../router/cluster.ts';
import { apiError } from './api-error.ts';
import { randomSchema } from './random-schema.ts';

const ASK = [{ role: 'user' as const, content: 'Hi' }];

const WEATHER = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { enum: ['Oslo', 'Lima'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city', 'days'],
      additionalProperties: false,
    },
  },
};
const TIME = {
  type: 'function' as const,
  function: {
    name: 'time',
    parameters: {
      type: 'object',
      properties: { zone: { type: 'string', maxLength: 4 } },
      required: ['zone'],
      additionalProperties: false,
    },
  },
};

describe('structured output, tools, logprobs and n through the router', { timeout: 240_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;
  let client: OpenAI;
  let tokenizer: Tokenizer;
  const ajv = new Ajv({ strict: false });

  before(async () => {
    c = await TestCluster.start({ workers: 1, name: 'structured' });
    router = await c.startRouter();
    client = new OpenAI({ baseURL: `${router.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    tokenizer = await loadLlama2cTokenizer(TOKENIZER);
  });
  after(async () => {
    await c?.stop();
  });

  test('json_schema: every reply parses and validates, over random schemas and seeds', async () => {
    for (let i = 0; i < 24; i++) {
      const schema = randomSchema(i);
      const r = await client.chat.completions.create({
        model: MODEL,
        messages: ASK,
        response_format: { type: 'json_schema', json_schema: { name: `s${i}`, schema, strict: true } },
        max_tokens: 300,
        seed: i,
        temperature: 1,
      });
      const choice = r.choices[0];
      const text = choice?.message.content;
      const where = `schema ${i} ${JSON.stringify(schema)}`;
      // the output first: a broken constraint shows as what it let through
      const value = parsed(text, where);
      assert.ok(ajv.validate(schema, value), `${where}: ${text}\n${ajv.errorsText()}`);
      assert.equal(choice?.finish_reason, 'stop', `${where}: ${text}`);
    }
  });

  test('json_object: a JSON object always (closing tokens favoured so a story model ends its strings)', async () => {
    // stories260K writes stories inside JSON strings; logit_bias on the quote and brace tokens
    // (a client's own lever) makes it close them, so every reply ends within max_tokens
    const bias = closingBias(tokenizer);
    for (let seed = 0; seed < 8; seed++) {
      const r = await client.chat.completions.create({
        model: MODEL,
        messages: ASK,
        response_format: { type: 'json_object' },
        logit_bias: bias,
        max_tokens: 200,
        seed,
      });
      const text = r.choices[0]?.message.content ?? '';
      const value = parsed(text, `seed ${seed}`);
      assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), text);
      assert.equal(r.choices[0]?.finish_reason, 'stop', text);
    }
  });

  test('tool_choice required: a valid call of one of the tools, every seed; a named function is that one', async () => {
    const validate = new Map(
      [WEATHER, TIME].map((t) => [t.function.name, ajv.compile(t.function.parameters)]),
    );
    for (let seed = 0; seed < 6; seed++) {
      const r = await client.chat.completions.create({
        model: MODEL,
        messages: ASK,
        tools: [WEATHER, TIME],
        tool_choice: 'required',
        max_tokens: 100,
        seed,
      });
      const choice = r.choices[0];
      assert.equal(choice?.finish_reason, 'tool_calls', JSON.stringify(choice));
      const call = choice?.message.tool_calls?.[0];
      assert.ok(call?.type === 'function' && call.id.startsWith('call_'));
      const check = validate.get(call.function.name);
      assert.ok(check, `a known tool: ${call.function.name}`);
      assert.ok(check(JSON.parse(call.function.arguments)), call.function.arguments);
      assert.equal(choice?.message.content, null);
    }
    const named = await client.chat.completions.create({
      model: MODEL,
      messages: ASK,
      tools: [WEATHER, TIME],
      tool_choice: { type: 'function', function: { name: 'time' } },
      max_tokens: 100,
    });
    const namedCall = named.choices[0]?.message.tool_calls?.[0];
    assert.equal(namedCall?.type === 'function' && namedCall.function.name, 'time');
  });

  test('tool calls stream as deltas the SDK assembles; the round trip takes calls and results back in history', async () => {
    const stream = client.chat.completions.stream({
      model: MODEL,
      messages: ASK,
      tools: [WEATHER],
      tool_choice: 'required',
      max_tokens: 100,
      seed: 3,
    });
    const done = await stream.finalChatCompletion();
    const call = done.choices[0]?.message.tool_calls?.[0];
    assert.equal(done.choices[0]?.finish_reason, 'tool_calls');
    assert.equal(call?.type === 'function' && call.function.name, 'get_weather');
    assert.ok(call?.type === 'function');
    const history = [
      ...ASK,
      { role: 'assistant' as const, content: null, tool_calls: [call] },
      { role: 'tool' as const, tool_call_id: call.id, content: '{"temp": 21}' },
    ];
    const next = await client.chat.completions.create({
      model: MODEL,
      messages: history,
      tools: [WEATHER],
      max_tokens: 8,
    });
    const without = await client.chat.completions.create({
      model: MODEL,
      messages: ASK,
      tools: [WEATHER],
      max_tokens: 8,
    });
    assert.ok(
      (next.usage?.prompt_tokens ?? 0) > (without.usage?.prompt_tokens ?? 0) + 20,
      'the call and its result are in the prompt',
    );
  });

  test('logprobs: chat and completions, streamed and not, agree; top alternatives sorted and include the pick', async () => {
    const body = { model: MODEL, messages: ASK, max_tokens: 12, seed: 5, logprobs: true, top_logprobs: 3 };
    const whole = await client.chat.completions.create(body);
    const lps = whole.choices[0]?.logprobs?.content ?? [];
    assert.equal(lps.length, whole.usage?.completion_tokens);
    for (const lp of lps) {
      assert.equal(lp.top_logprobs.length, 3);
      assert.ok(lp.logprob <= 0);
      const tops = lp.top_logprobs.map((t) => t.logprob);
      assert.deepEqual(
        tops,
        [...tops].sort((a, b) => b - a),
      );
      assert.ok(lp.logprob <= (tops[0] as number) + 1e-6);
      assert.deepEqual(Buffer.from(lp.bytes ?? []).toString(), lp.token);
    }
    assert.equal(lps.map((l) => l.token).join(''), whole.choices[0]?.message.content);
    const streamed: typeof lps = [];
    for await (const ch of await client.chat.completions.create({ ...body, stream: true }))
      streamed.push(...(ch.choices[0]?.logprobs?.content ?? []));
    assert.deepEqual(streamed, lps);

    const comp = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 6,
      logprobs: 2,
      seed: 1,
    });
    const l = comp.choices[0]?.logprobs;
    assert.equal(l?.tokens?.join(''), comp.choices[0]?.text);
    assert.equal(l?.top_logprobs?.[0] && Object.keys(l.top_logprobs[0]).length, 2);
    assert.deepEqual(l?.text_offset?.[0], 0);
  });

  test('n = 4: the prompt computed once and forked; each choice equals its seed run alone', async () => {
    const prompt = 'Once upon a time, there was a little girl named Lily who loved to play outside in the';
    const r = await client.completions.create({
      model: MODEL,
      prompt,
      max_tokens: 16,
      n: 4,
      seed: 40,
      temperature: 1,
    });
    assert.deepEqual(
      r.choices.map((ch) => ch.index),
      [0, 1, 2, 3],
    );
    const details = r.usage?.prompt_tokens_details as Record<string, number>;
    const promptTokens = r.usage?.prompt_tokens ?? 0;
    assert.equal(
      details.computed_tokens,
      promptTokens - (details.cached_tokens ?? 0),
      'prompt computed once',
    );
    assert.equal(details.forked_tokens, 3 * promptTokens, 'three choices forked it');
    for (let i = 0; i < 4; i++) {
      const alone = await client.completions.create({
        model: MODEL,
        prompt,
        max_tokens: 16,
        seed: 40 + i,
        temperature: 1,
      });
      assert.equal(r.choices[i]?.text, alone.choices[0]?.text, `choice ${i} vs seed ${40 + i} alone`);
    }
    // best_of: the best two of four candidates by mean log-probability
    const best = await client.completions.create({
      model: MODEL,
      prompt,
      max_tokens: 8,
      n: 2,
      best_of: 4,
      seed: 40,
      temperature: 1.5,
    });
    assert.equal(best.choices.length, 2);
    assert.equal(best.usage?.completion_tokens, 32, 'all four candidates were generated');
  });

  test('echo, penalties, logit_bias and min_tokens change the output as asked', async () => {
    const prompt = 'Once upon a time';
    const echo = await client.completions.create({
      model: MODEL,
      prompt,
      max_tokens: 4,
      echo: true,
      temperature: 0,
    });
    const plain = await client.completions.create({ model: MODEL, prompt, max_tokens: 4, temperature: 0 });
    assert.equal(echo.choices[0]?.text, prompt + plain.choices[0]?.text);

    const first = await client.completions.create({
      model: MODEL,
      prompt,
      max_tokens: 1,
      temperature: 0,
      logprobs: 0,
    });
    const top = first.choices[0]?.logprobs?.tokens?.[0] as string;
    const banned = await client.completions.create({
      model: MODEL,
      prompt,
      max_tokens: 1,
      temperature: 0,
      logprobs: 1,
      logit_bias: biasOn(tokenizer, top, -100),
    });
    assert.notEqual(banned.choices[0]?.text, top, 'logit_bias -100 bans the greedy token');

    const long = await client.completions.create({ model: MODEL, prompt, max_tokens: 100, temperature: 0 });
    const penalised = await client.completions.create({
      model: MODEL,
      prompt,
      max_tokens: 100,
      temperature: 0,
      frequency_penalty: 2,
      presence_penalty: 2,
    });
    assert.notEqual(penalised.choices[0]?.text, long.choices[0]?.text);
    const repeated = await client.completions.create({
      model: MODEL,
      prompt,
      max_tokens: 100,
      temperature: 0,
      repetition_penalty: 1.8,
    } as never);
    assert.notEqual(repeated.choices[0]?.text, long.choices[0]?.text);

    // EOS (id 2) favoured ends at once; min_tokens holds it back that many tokens
    const eos = { 2: 100 };
    const ended = await client.completions.create({ model: MODEL, prompt, max_tokens: 20, logit_bias: eos });
    assert.equal(ended.usage?.completion_tokens, 0);
    const held = await client.completions.create({
      model: MODEL,
      prompt,
      max_tokens: 20,
      logit_bias: eos,
      min_tokens: 5,
    } as never);
    assert.equal(held.usage?.completion_tokens, 5);
    assert.equal(held.choices[0]?.finish_reason, 'stop');
  });

  test('what is not supported is a 400 naming the parameter', async () => {
    const cases: [Record<string, unknown>, string, 'chat' | 'completion'][] = [
      [{ suffix: ' the end' }, 'suffix', 'completion'],
      [{ echo: true, logprobs: 1 }, 'echo', 'completion'],
      [{ best_of: 3, n: 1, stream: true }, 'best_of', 'completion'],
      [{ n: 17 }, 'n', 'completion'],
      [{ best_of: 1, n: 2 }, 'best_of', 'completion'],
      [{ logit_bias: { 5: 101 } }, 'logit_bias', 'completion'],
      [{ logit_bias: { 999999: 1 } }, 'logit_bias', 'completion'],
      [{ presence_penalty: 3 }, 'presence_penalty', 'completion'],
      [{ repetition_penalty: 0 }, 'repetition_penalty', 'completion'],
      [{ min_tokens: 9, max_tokens: 4 }, 'min_tokens', 'completion'],
      [{ logprobs: 6 }, 'logprobs', 'completion'],
      [{ top_logprobs: 2 }, 'top_logprobs', 'chat'],
      [{ response_format: { type: 'yaml' } }, 'response_format', 'chat'],
      [
        { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'strange' } } } },
        'response_format',
        'chat',
      ],
      [{ tool_choice: 'required' }, 'tool_choice', 'chat'],
      [
        { tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'nope' } } },
        'tool_choice',
        'chat',
      ],
      [{ tools: [{ type: 'retrieval' }] }, 'tools', 'chat'],
      [{ audio: { voice: 'alloy', format: 'wav' } }, 'audio', 'chat'],
      [
        {
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] },
          ],
        },
        'messages',
        'chat',
      ],
      [{ functions: [{ name: 'f' }] }, 'functions', 'chat'],
    ];
    for (const [extra, param, kind] of cases) {
      const base =
        kind === 'chat'
          ? { model: MODEL, messages: ASK, max_tokens: 4 }
          : { model: MODEL, prompt: 'Hi', max_tokens: 4 };
      const call =
        kind === 'chat'
          ? client.chat.completions.create({ ...base, ...extra } as never)
          : client.completions.create({ ...base, ...extra } as never);
      const err = await apiError(call);
      assert.equal(err.status, 400, JSON.stringify(extra));
      assert.equal(err.param, param, `${JSON.stringify(extra)}: ${err.message}`);
    }
  });

  test('gRPC: regex and choice constraints, logprobs, n, and tools parsed into the final', async () => {
    const g = c.client(router.address);
    const regex = await collect(
      g.generate({
        text: 'Once upon a time',
        sampling: { maxTokens: 40, temperature: 1, seed: '2', constraint: { regex: '[a-z]{3,6}-[0-9]{2}' } },
      }),
    );
    assert.match(regex.text, /^[a-z]{3,6}-[0-9]{2}$/);
    const choice = await collect(
      g.generate({
        text: 'Once upon a time',
        sampling: {
          maxTokens: 20,
          temperature: 1,
          seed: '2',
          constraint: { choice: { values: ['yes', 'no', 'maybe'] } },
        },
      }),
    );
    assert.ok(['yes', 'no', 'maybe'].includes(choice.text), choice.text);
    const byIndex = new Map<number, number>();
    const many = await collect(
      g.generate({
        text: 'Once upon a time',
        sampling: { maxTokens: 5, n: 3, seed: '9', temperature: 1, logprobs: true, topLogprobs: 2 },
      }),
      (m) => {
        if (m.kind !== 'delta') return;
        byIndex.set(m.delta.index, (byIndex.get(m.delta.index) ?? 0) + m.delta.tokenIds.length);
        assert.equal(m.delta.logprobs.length, m.delta.tokenIds.length);
        for (const lp of m.delta.logprobs) assert.equal(lp.top.length, 2);
      },
    );
    assert.deepEqual([...byIndex.keys()].sort(), [0, 1, 2]);
    assert.equal(many.final.choices.length, 3);
    assert.equal(many.final.usage?.forkedPromptTokens, 2 * (many.final.usage?.promptTokens ?? 0));
    const tools = await collect(
      g.generate({
        messages: ASK,
        tools: [{ name: 'get_weather', parameters: JSON.stringify(WEATHER.function.parameters) }],
        toolChoice: 'required',
        sampling: { maxTokens: 110, seed: '1' },
      }),
    );
    assert.equal(tools.final.finishReason, 'FINISH_REASON_TOOL_CALLS');
    assert.equal(tools.final.choices[0]?.toolCalls[0]?.name, 'get_weather');
    const bad = await collect(
      g.generate({ text: 'x', sampling: { constraint: { jsonSchema: '{"type": 5' } } }),
    ).then(
      () => assert.fail('expected INVALID_ARGUMENT'),
      (e: grpc.ServiceError) => e,
    );
    assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
  });
});

/** `text` as JSON, or an assertion failure showing it. */
function parsed(text: string | null | undefined, where: string): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch (err) {
    assert.fail(`${where}: not JSON (${(err as Error).message}): ${JSON.stringify(text)}`);
  }
}

/** logit_bias of `bias` on every token whose text is `text` (a byte token and a piece may both spell it). */
function biasOn(t: Tokenizer, text: string, bias: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let id = 0; id < t.vocabSize; id++)
    if (new TextDecoder().decode(t.tokenBytes(id)) === text) out[id] = bias;
  return out;
}

/** logit_bias favouring the tokens that close JSON strings, objects and arrays. */
function closingBias(t: Tokenizer): Record<string, number> {
  const bias: Record<string, number> = {};
  for (let id = 0; id < t.vocabSize; id++) {
    const text = new TextDecoder().decode(t.tokenBytes(id));
    if (/[}\]]/.test(text)) bias[id] = 15;
    else if (text.includes(',')) bias[id] = -10;
    else if (text.includes('"')) bias[id] = 5;
  }
  return bias;
}
