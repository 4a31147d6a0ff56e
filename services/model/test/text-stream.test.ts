import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TOKENIZER } from '@chunkmesh/test-support';
import { loadHfTokenizer } from '../src/hf-tokenizer.ts';
import { loadLlama2cTokenizer } from '../src/llama2c-tokenizer.ts';
import { TextStream } from '../src/text-stream.ts';
import { tinyTokenizerConfig, tinyTokenizerJson } from '../src/tiny-model.ts';
import type { Tokenizer } from '../src/tokenizer.ts';

let root: string;
let tokenizer: Tokenizer;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'text-stream-test-'));
  await writeFile(join(root, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson(2000)));
  await writeFile(join(root, 'tokenizer_config.json'), JSON.stringify(tinyTokenizerConfig(64)));
  tokenizer = (await loadHfTokenizer(root, 'tiny')).tokenizer;
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function stream(ids: number[], decoder: Tokenizer = tokenizer): string[] {
  const s = new TextStream(decoder);
  const deltas = ids.map((id) => s.push(id));
  deltas.push(s.flush());
  return deltas;
}

describe('streaming detokenization', () => {
  it('deltas concatenate to the full decode, one character split over several byte tokens', () => {
    const text = 'héllo 日本語 🙂🙂 the end';
    const ids = tokenizer.encode(text);
    const deltas = stream(ids);
    assert.equal(deltas.join(''), text);
    assert.ok(
      deltas.every((d) => !d.includes('\uFFFD')),
      'no partial character is emitted',
    );
    // The emoji is four byte tokens: three pushes emit nothing, the fourth the whole character.
    const emoji = tokenizer.encode('🙂');
    assert.equal(emoji.length, 4);
    assert.deepEqual(stream(emoji), ['', '', '', '🙂', '']);
  });

  it('special tokens emit nothing and do not break the text around them', () => {
    const ids = [1, ...tokenizer.encode('a b'), 2, ...tokenizer.encode(' c')];
    assert.equal(stream(ids).join(''), 'a b c');
  });

  it('flush gives up on an incomplete character with U+FFFD', () => {
    const partial = tokenizer.encode('x🙂').slice(0, 3);
    const deltas = stream(partial);
    assert.deepEqual(deltas.slice(0, -1), ['x', '', '']);
    assert.equal(deltas.at(-1), '\uFFFD');
  });

  it('long outputs stream the same text as decoding at once', () => {
    const text = Array.from({ length: 200 }, (_, i) => `word${i} ünïcödé ${i % 7 === 0 ? '🎉' : ''}`).join(
      ' ',
    );
    const ids = tokenizer.encode(text);
    assert.equal(stream(ids).join(''), tokenizer.decode(ids));
  });

  it('works with a llama2.c tokenizer (byte-fallback pieces, BOS dummy-prefix rule)', async () => {
    const llama2c = await loadLlama2cTokenizer(TOKENIZER);
    const text = 'Once upon a time, Lily saw a 🐶 named Max. Ünïcode!';
    const ids = llama2c.encode(text, { addSpecialTokens: true });
    const deltas = stream(ids, llama2c);
    assert.equal(deltas.join(''), llama2c.decode(ids));
    assert.ok(deltas.every((d) => !d.includes('\uFFFD')));
  });
});
