// The llama2.c tokenizer on tok512 and on malformed files.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { REFERENCE_TEXT, TOKENIZER } from '@chunkmesh/test-support';
import {
  type Llama2cTokenizer,
  loadLlama2cTokenizer,
  parseLlama2cTokenizer,
} from '../src/llama2c-tokenizer.ts';
import type { Tokenizer } from '../src/tokenizer.ts';

const CONTROL_AND_BYTES: [string, number][] = [
  ...['<unk>', '\n<s>\n', '\n</s>\n'].map((p): [string, number] => [p, 0]),
  ...Array.from({ length: 256 }, (_, b): [string, number] => [
    `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
    0,
  ]),
];

/** A tokenizer file holding exactly these pieces and scores. */
function tokenizerFile(pieces: [string, number][]): Uint8Array {
  const encoded = pieces.map(([p, s]): [Uint8Array, number] => [new TextEncoder().encode(p), s]);
  const out = new Uint8Array(4 + encoded.reduce((n, [p]) => n + 8 + p.length, 0));
  const view = new DataView(out.buffer);
  view.setInt32(0, 8, true);
  let at = 4;
  for (const [p, s] of encoded) {
    view.setFloat32(at, s, true);
    view.setInt32(at + 4, p.length, true);
    out.set(p, at + 8);
    at += 8 + p.length;
  }
  return out;
}

describe('llama2.c tokenizer', () => {
  let tok: Llama2cTokenizer;
  before(async () => {
    tok = await loadLlama2cTokenizer(TOKENIZER, 512);
  });

  it('is a Tokenizer with llama2.c special tokens', () => {
    const t: Tokenizer = tok;
    assert.equal(t.id, 'tok512');
    assert.equal(t.vocabSize, 512);
    assert.equal(t.bosTokenId, 1);
    assert.deepEqual(t.eosTokenIds, [2]);
  });

  it('encodes as run.c does: BOS, dummy-prefix space, greedy best-score merges', () => {
    // the first tokens stories260K generates from BOS (see the generation test)
    assert.deepEqual(
      tok.encode('Once upon a time, there was', { addSpecialTokens: true }),
      [1, 403, 407, 261, 378, 432, 383, 286],
    );
    assert.deepEqual(tok.encode('Once upon a time, there was'), [403, 407, 261, 378, 432, 383, 286]);
    assert.deepEqual(tok.encode(''), []);
    assert.deepEqual(tok.encode('', { addSpecialTokens: true }), [1]);
  });

  it('decodes without the space after BOS, with it elsewhere, and without special tokens', () => {
    const ids = tok.encode(REFERENCE_TEXT, { addSpecialTokens: true });
    assert.equal(tok.decode(ids), REFERENCE_TEXT);
    assert.equal(tok.decode(ids.slice(1)), ` ${REFERENCE_TEXT}`);
    assert.equal(tok.decode([...ids, 2]), REFERENCE_TEXT);
  });

  it('falls back to byte tokens for characters outside the vocabulary and decodes them back', () => {
    const text = 'Tom saw 🐶 and ∆.';
    const ids = tok.encode(text, { addSpecialTokens: true });
    const dog = [...new TextEncoder().encode('🐶')].map((b) => b + 3);
    assert.ok(
      ids.some((_, i) => dog.every((d, j) => ids[i + j] === d)),
      `byte tokens of the emoji in ${ids}`,
    );
    assert.equal(tok.decode(ids), text);
    // a character cut in half decodes to the replacement character, not to garbage
    const cut = ids.slice(0, ids.indexOf(dog[2] as number));
    assert.ok(tok.decode(cut).endsWith('\uFFFD'));
  });

  it('merges the best-scoring pair first and the leftmost of equals', () => {
    const pieces: [string, number][] = [
      [' ', 0],
      ['a', 0],
      ['b', 0],
      ['ab', -2],
      ['ba', -1],
      [' a', -5],
    ];
    const t = parseLlama2cTokenizer(tokenizerFile([...CONTROL_AND_BYTES, ...pieces]), 'toy');
    const id = (p: string) => 259 + pieces.findIndex(([q]) => q === p);
    // ' ', a, b, a: 'ba' (-1) beats 'ab' (-2) and ' a' (-5); then ' a' merges
    assert.deepEqual(t.encode('aba'), [id(' a'), id('ba')]);
    // ' ', b, a, b, a: the two 'ba' pairs tie; the leftmost merges first, then the other
    assert.deepEqual(t.encode('baba'), [id(' '), id('ba'), id('ba')]);
  });

  it('rejects malformed files, naming what is wrong', async () => {
    const real = await readFile(TOKENIZER);
    assert.throws(() => parseLlama2cTokenizer(real.subarray(0, 2), 'x'), /too short/);
    assert.throws(
      () => parseLlama2cTokenizer(real.subarray(0, real.length - 3), 'x', 512),
      /truncated|length/,
    );
    assert.throws(() => parseLlama2cTokenizer(real, 'x', 600), /expected 600 tokens/);
    const badMax = Uint8Array.from(real);
    new DataView(badMax.buffer).setInt32(0, -1, true);
    assert.throws(() => parseLlama2cTokenizer(badMax, 'x'), /max_token_length/);
    assert.throws(
      () => parseLlama2cTokenizer(tokenizerFile([...CONTROL_AND_BYTES, ['a', 0]]), 'x'),
      /no " " token/,
    );
    assert.throws(
      () => parseLlama2cTokenizer(tokenizerFile(CONTROL_AND_BYTES.slice(0, 10)), 'x'),
      /cannot hold/,
    );
    const swapped = CONTROL_AND_BYTES.map((e, i): [string, number] => (i === 3 ? ['<0x01>', 0] : e));
    assert.throws(() => parseLlama2cTokenizer(tokenizerFile([...swapped, [' ', 0]]), 'x'), /<0x00>/);
    assert.throws(() => tok.decode([512]), RangeError);
  });
});
