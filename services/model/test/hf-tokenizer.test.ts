import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createChatTemplate } from '../src/chat-template.ts';
import { loadHfTokenizer } from '../src/hf-tokenizer.ts';
import { promptTokens } from '../src/prompt-tokens.ts';
import { TINY_CHAT_TEMPLATE, tinyTokenizerConfig, tinyTokenizerJson } from '../src/tiny-model.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hf-tokenizer-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A directory holding the given tokenizer files (objects are written as JSON, strings as is). */
async function tokenizerDir(name: string, files: Record<string, unknown>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  for (const [file, content] of Object.entries(files)) {
    await writeFile(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const TEXT = 'Hello world, the quick brown fox!\n\ttabs, héllo 日本 🙂 and \u0000 bytes';

describe('tokenizer.json through @huggingface/tokenizers', () => {
  it('byte-level BPE: encode/decode round trip, BOS on request, ids within the vocabulary', async () => {
    const dir = await tokenizerDir('tiny', {
      'tokenizer.json': tinyTokenizerJson(1000),
      'tokenizer_config.json': tinyTokenizerConfig(128),
    });
    const { tokenizer } = await loadHfTokenizer(dir, 'tiny-tok');
    assert.equal(tokenizer.id, 'tiny-tok');
    assert.equal(tokenizer.vocabSize, 1000);
    assert.equal(tokenizer.bosTokenId, 1);
    assert.deepEqual(tokenizer.eosTokenIds, [2]);
    const ids = tokenizer.encode(TEXT);
    assert.ok(ids.every((id) => id >= 0 && id < 1000));
    assert.ok(ids.length < new TextEncoder().encode(TEXT).length, 'merges shorten the sequence');
    assert.equal(tokenizer.decode(ids), TEXT);
    assert.deepEqual(tokenizer.encode(TEXT, { addSpecialTokens: true }), [1, ...ids]);
    assert.equal(tokenizer.decode([1, ...ids, 2]), TEXT, 'special tokens are left out');
    assert.equal(tokenizer.decode([]), '');
    assert.deepEqual(tokenizer.encode(''), []);
  });

  it('special tokens in text become their ids', async () => {
    const dir = await tokenizerDir('special', {
      'tokenizer.json': tinyTokenizerJson(300),
      'tokenizer_config.json': tinyTokenizerConfig(128),
    });
    const { tokenizer } = await loadHfTokenizer(dir, 't');
    const ids = tokenizer.encode('<s><|user|>\nhi</s>');
    assert.deepEqual([ids[0], ids[1], ids.at(-1)], [1, 4, 2]);
  });

  it('a small vocabulary still round-trips ASCII and maps other bytes to <unk>', async () => {
    const dir = await tokenizerDir('small', {
      'tokenizer.json': tinyTokenizerJson(110),
      'tokenizer_config.json': tinyTokenizerConfig(16),
    });
    const { tokenizer } = await loadHfTokenizer(dir, 't');
    assert.equal(tokenizer.vocabSize, 110);
    assert.equal(tokenizer.decode(tokenizer.encode('Plain ASCII text: 42!')), 'Plain ASCII text: 42!');
    assert.ok(tokenizer.encode('é').includes(0));
  });

  it('special tokens written as AddedToken objects, no BOS (Qwen-style)', async () => {
    const dir = await tokenizerDir('objects', {
      'tokenizer.json': { ...tinyTokenizerJson(300), post_processor: null },
      'tokenizer_config.json': { bos_token: null, eos_token: { content: '</s>', special: true } },
    });
    const { tokenizer, chatTemplate } = await loadHfTokenizer(dir, 't');
    assert.equal(tokenizer.bosTokenId, undefined);
    assert.deepEqual(tokenizer.eosTokenIds, [2]);
    assert.deepEqual(
      tokenizer.encode('a', { addSpecialTokens: true }),
      tokenizer.encode('a'),
      'no post-processor',
    );
    assert.equal(chatTemplate.source, undefined, 'no template: fallback');
  });

  it('rejects a missing tokenizer.json, hinting at tokenizer.model', async () => {
    const dir = await tokenizerDir('sp', { 'tokenizer.model': 'x' });
    await assert.rejects(
      loadHfTokenizer(dir, 't'),
      /missing tokenizer\.json \(only a SentencePiece tokenizer\.model/,
    );
  });

  it('rejects a special token that is not in the vocabulary', async () => {
    const dir = await tokenizerDir('bad-eos', {
      'tokenizer.json': tinyTokenizerJson(300),
      'tokenizer_config.json': { eos_token: '<|eot|>' },
    });
    await assert.rejects(
      loadHfTokenizer(dir, 't'),
      /tokenizer_config\.json: eos_token "<\|eot\|>" is not in the vocabulary/,
    );
  });

  it('rejects a tokenizer.json the library cannot build', async () => {
    const dir = await tokenizerDir('broken', {
      'tokenizer.json': { model: { type: 'Nope' }, added_tokens: [] },
    });
    await assert.rejects(loadHfTokenizer(dir, 't'), /tokenizer\.json: cannot build tokenizer/);
  });
});

describe('chat templates', () => {
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ];

  it('renders tokenizer_config.json chat_template with bos/eos and the generation prompt', async () => {
    const dir = await tokenizerDir('chat', {
      'tokenizer.json': tinyTokenizerJson(300),
      'tokenizer_config.json': tinyTokenizerConfig(128),
    });
    const { tokenizer, chatTemplate } = await loadHfTokenizer(dir, 't');
    assert.equal(chatTemplate.source, TINY_CHAT_TEMPLATE);
    const prompt = chatTemplate.applyChatTemplate(messages, { addGenerationPrompt: true });
    assert.equal(prompt, '<s><|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\n');
    assert.equal(
      chatTemplate.applyChatTemplate(messages, { addGenerationPrompt: false }),
      '<s><|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n',
    );
    const ids = tokenizer.encode(prompt);
    assert.deepEqual(ids.slice(0, 2), [1, 3], 'BOS and <|system|> come out as single special ids');
    assert.deepEqual(ids.slice(-2), [5, tokenizer.encode('\n')[0]]);
  });

  it('a chat prompt has one BOS: the template writes it, encoding adds none; text prompts get it', async () => {
    const dir = await tokenizerDir('one-bos', {
      'tokenizer.json': tinyTokenizerJson(300),
      'tokenizer_config.json': tinyTokenizerConfig(128),
    });
    const bundle = { ...(await loadHfTokenizer(dir, 't')), model: { config: { maxSeqLen: 128 } } };
    const chat = promptTokens({ kind: 'chat', messages }, bundle);
    assert.deepEqual(chat.slice(0, 2), [1, 3], '<s><|system|>, not <s><s>');
    assert.equal(chat.filter((id) => id === 1).length, 1);
    assert.deepEqual(promptTokens({ kind: 'text', text: 'Hi' }, bundle), [
      1,
      ...bundle.tokenizer.encode('Hi'),
    ]);
    const fallback = { ...bundle, chatTemplate: createChatTemplate(undefined) };
    assert.equal(promptTokens({ kind: 'chat', messages }, fallback)[0], 1, 'the fallback format gets BOS');
  });

  it('named templates (a list) use "default"; chat_template.jinja takes precedence', async () => {
    const named = await tokenizerDir('named', {
      'tokenizer.json': tinyTokenizerJson(300),
      'tokenizer_config.json': {
        chat_template: [
          { name: 'tool_use', template: 'TOOLS' },
          { name: 'default', template: '{% for m in messages %}[{{ m.content }}]{% endfor %}' },
        ],
      },
    });
    const { chatTemplate } = await loadHfTokenizer(named, 't');
    assert.equal(chatTemplate.applyChatTemplate(messages, { addGenerationPrompt: false }), '[Be brief.][Hi]');

    const jinja = await tokenizerDir('jinja', {
      'tokenizer.json': tinyTokenizerJson(300),
      'tokenizer_config.json': { chat_template: 'IGNORED' },
      'chat_template.jinja': '{{ messages | length }}{% if add_generation_prompt %}>{% endif %}',
    });
    const fromFile = (await loadHfTokenizer(jinja, 't')).chatTemplate;
    assert.equal(fromFile.applyChatTemplate(messages, { addGenerationPrompt: true }), '2>');
  });

  it('templates can raise_exception, as real ones do for bad role order', () => {
    const template = createChatTemplate(
      "{% if messages[0]['role'] != 'user' %}{{ raise_exception('first message must be from the user') }}{% endif %}",
    );
    assert.throws(
      () => template.applyChatTemplate(messages, { addGenerationPrompt: false }),
      /must be from the user/,
    );
  });

  it('a template that does not parse fails at load', async () => {
    const dir = await tokenizerDir('bad-template', {
      'tokenizer.json': tinyTokenizerJson(300),
      'tokenizer_config.json': { chat_template: '{% for m in messages %}' },
    });
    await assert.rejects(loadHfTokenizer(dir, 't'), /chat template does not parse/);
  });

  it('the fallback format', () => {
    const fallback = createChatTemplate(undefined);
    assert.equal(
      fallback.applyChatTemplate(messages, { addGenerationPrompt: true }),
      'system: Be brief.\n\nuser: Hi\n\nassistant:',
    );
    assert.equal(
      fallback.applyChatTemplate(messages, { addGenerationPrompt: false }),
      'system: Be brief.\n\nuser: Hi\n\n',
    );
  });
});
