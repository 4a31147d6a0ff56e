import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanUpSpaces, SpaceCleaner } from '../src/clean-up-spaces.ts';
import { splitmix32 } from '../src/tiny-model.ts';

describe('clean_up_tokenization_spaces', () => {
  it("removes transformers' spaces, rule by rule in its order", () => {
    assert.equal(cleanUpSpaces(' , my'), ', my');
    assert.equal(
      cleanUpSpaces("It 's here . I 've , you 're , don 't ' x n't !"),
      "It's here. I've, you're, don 't'xn't!",
    );
    assert.equal(cleanUpSpaces("a ' ' b"), "a'' b", 'non-overlapping, left to right');
  });

  it('streamed in pieces, the output concatenates to the clean-up of the whole text', () => {
    // Texts made of the characters the rules look at, cut at random places.
    const alphabet = [' ', ' ', "'", 'n', 't', 's', 'm', 'v', 'e', 'r', '.', ',', '?', '!', 'x'];
    const next = splitmix32(7);
    const pick = (n: number) => Math.floor(next() * n);
    for (let trial = 0; trial < 50_000; trial++) {
      const text = Array.from({ length: 1 + pick(14) }, () => alphabet[pick(alphabet.length)]).join('');
      const cleaner = new SpaceCleaner();
      let out = '';
      for (let i = 0; i < text.length; ) {
        const n = 1 + pick(3);
        out += cleaner.push(text.slice(i, i + n));
        i += n;
      }
      out += cleaner.flush();
      assert.equal(out, cleanUpSpaces(text), JSON.stringify(text));
    }
  });

  it('holds back only what a later piece can change', () => {
    const cleaner = new SpaceCleaner();
    assert.equal(cleaner.push('Hello'), 'Hello');
    assert.equal(cleaner.push(' '), '', 'a space may precede "."');
    assert.equal(cleaner.push(','), ',');
    assert.equal(cleaner.push(' my'), ' my');
    assert.equal(cleaner.push(" 'v"), '');
    assert.equal(cleaner.push('e'), "'ve");
  });
});
