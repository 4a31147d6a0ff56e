// The one reading of a Generate request's tools and sampling (the router's
// gRPC door and the worker): a required or named tool choice becomes the
// constraint decoding runs under, and cannot be combined with one of the
// request's own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GenerateRequest, InvalidArgument } from '@chunkmesh/common';
import { createChatTemplate } from '../src/chat-template.ts';
import type { PromptInput } from '../src/prompt-tokens.ts';
import type { ToolChoice } from '../src/tools/tool-format.ts';
import { checkedToolSampling } from '../src/tools/tool-sampling.ts';

const template = createChatTemplate(undefined);
const weather = { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
const chat = (toolChoice: ToolChoice): PromptInput => ({
  kind: 'chat',
  messages: [{ role: 'user', content: 'hi' }],
  tools: [weather],
  toolChoice,
});
/** A request with these sampling fields (as the proto's reader gives them; unset ones absent). */
const request = (sampling: Record<string, unknown> | null) => ({ sampling }) as unknown as GenerateRequest;

describe('tool sampling', () => {
  it('a required or named tool choice is the constraint; auto and none leave sampling as given', () => {
    for (const choice of ['required', { name: 'weather' }] as const) {
      const s = checkedToolSampling(request({ temperature: 0.5 }), chat(choice), template);
      assert.equal(s.temperature, 0.5);
      assert.ok(
        s.constraint?.jsonSchema?.includes('weather'),
        `${JSON.stringify(choice)}: the tool's schema`,
      );
    }
    for (const choice of ['auto', 'none'] as const)
      assert.equal(checkedToolSampling(request(null), chat(choice), template).constraint, undefined);
    assert.equal(
      checkedToolSampling(request(null), { kind: 'text', text: 'hi' }, template).constraint,
      undefined,
    );
  });

  it('refuses a constraint of the request with a required tool choice, naming tool_choice', () => {
    const own = request({
      constraint: { kind: 'regex', regex: 'a+', strict: false, prefix: '', suffix: '' },
    });
    assert.throws(
      () => checkedToolSampling(own, chat('required'), template),
      (err: unknown) => err instanceof InvalidArgument && err.param === 'tool_choice',
    );
    assert.ok(checkedToolSampling(own, chat('auto'), template).constraint, 'auto keeps the request its own');
  });
});
