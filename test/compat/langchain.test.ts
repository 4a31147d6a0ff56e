// LangChain's OpenAI chat model against the router, as an agent framework uses
// it: bindTools with a required tool (the call comes back parsed into
// tool_calls) and withStructuredOutput by JSON schema and by function calling
// (the reply parsed into an object of the schema), on real router and worker
// processes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChatOpenAI } from '@langchain/openai';
import { Ajv } from 'ajv';
import { MODEL, TestCluster } from '../router/cluster.ts';

const PERSON = {
  title: 'person',
  description: 'A person',
  type: 'object',
  properties: { name: { type: 'string', maxLength: 6 }, age: { type: 'integer', minimum: 1, maximum: 99 } },
  required: ['name', 'age'],
  additionalProperties: false,
};

describe('LangChain ChatOpenAI against the router', { timeout: 120_000 }, () => {
  let c: TestCluster;
  let model: ChatOpenAI;
  const validate = new Ajv({ strict: false }).compile(PERSON);

  before(async () => {
    c = await TestCluster.start({ workers: 1, name: 'langchain' });
    const router = await c.startRouter();
    model = new ChatOpenAI({
      model: MODEL,
      apiKey: 'unused',
      configuration: { baseURL: `${router.baseUrl}/v1` },
      maxTokens: 160,
      maxRetries: 0,
    });
  });
  after(async () => {
    await c?.stop();
  });

  test('bindTools with a required tool: the call is parsed into tool_calls', async () => {
    const bound = model.bindTools(
      [
        {
          type: 'function',
          function: { name: 'person', description: 'Record a person', parameters: PERSON },
        },
      ],
      { tool_choice: 'any' },
    );
    const reply = await bound.invoke('Hi');
    const call = reply.tool_calls?.[0];
    assert.equal(call?.name, 'person', JSON.stringify(reply));
    assert.ok(validate(call?.args), JSON.stringify(call?.args));
  });

  test('withStructuredOutput: JSON schema mode and function calling both give a valid object', async () => {
    for (const method of ['jsonSchema', 'functionCalling'] as const) {
      const structured = model.withStructuredOutput(PERSON, { method, includeRaw: true });
      const { raw, parsed } = await structured.invoke('Hi');
      assert.ok(validate(parsed), `${method}: ${JSON.stringify(raw)}`);
    }
  });
});
