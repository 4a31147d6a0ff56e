// The constraint compiler's cache of compiled grammars is bounded (each holds
// per-state mask caches), and evicting a grammar does not break the matchers
// requests already hold for it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckedConstraint } from '@chunkmesh/common';
import { loadLlama2cTokenizer } from '@chunkmesh/model';
import { TOKENIZER } from '@chunkmesh/test-support';
import { ConstraintCompiler } from '../../src/sampling/grammar/constraint-compiler.ts';

const EOS = 2;

function choice(values: string[]): CheckedConstraint {
  return { choice: { values }, strict: false, prefix: '', suffix: '' };
}

describe('constraint compiler', () => {
  it('keeps at most its capacity of grammars; a matcher outlives its evicted grammar', async () => {
    const tokenizer = await loadLlama2cTokenizer(TOKENIZER);
    const compiler = await ConstraintCompiler.create(tokenizer, tokenizer.vocabSize, [EOS], 2);
    const [early] = await compiler.matchers(choice(['yes', 'no']), 1);
    assert.ok(early);
    for (const v of ['a', 'b', 'c', 'd']) {
      for (const m of await compiler.matchers(choice([v]), 1)) m.dispose();
      assert.ok(compiler.size <= 2, `${compiler.size} grammars kept`);
    }
    assert.equal(compiler.size, 2);
    // the yes/no grammar was evicted and disposed: its matcher still allows exactly their starts
    const mask = await early.getNextTokenBitmask();
    const allowed: string[] = [];
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      if (((mask[id >> 5] as number) >>> (id & 31)) & 1)
        allowed.push(new TextDecoder().decode(tokenizer.tokenBytes(id)));
    }
    assert.ok(allowed.length > 0);
    for (const text of allowed) assert.ok('yes'.startsWith(text) || 'no'.startsWith(text), text);
    assert.ok(allowed.includes('y') || allowed.includes('n'), allowed.join(' '));
    early.dispose();
  });
});
