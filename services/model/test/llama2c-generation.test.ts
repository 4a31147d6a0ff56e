// stories260K end to end on the native forward pass: greedy generation from
// BOS reproduces llama2.c's reference story; batching, prefix sharing and
// prefix caching change nothing in what each request generates.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type DecodeMode, type LoadedModel, Model } from '@chunkmesh/native';
import { CHECKPOINT, generateGreedy, REFERENCE_TEXT, storiesCache, TOKENIZER } from '@chunkmesh/test-support';
import { loadLlama2cCheckpoint } from '../src/llama2c-checkpoint.ts';
import { type Llama2cTokenizer, loadLlama2cTokenizer } from '../src/llama2c-tokenizer.ts';

const MODES: DecodeMode[] = ['tpp', 'baseline'];
const BOS = 1;

describe('stories260K on the native Model', () => {
  let loaded: LoadedModel;
  let tok: Llama2cTokenizer;
  /** Greedy continuation of each prompt alone, on a fresh cache. */
  const solo = async (prompt: number[], steps: number, mode: DecodeMode = 'tpp') =>
    (await generateGreedy(Model.create(loaded, storiesCache(loaded)), [prompt], steps, mode))
      .outputs[0] as number[];
  /** ~300 tokens of story, then a different ending per prompt. */
  const sharedPrefixPrompts = () => {
    const story = tok.encode(`${REFERENCE_TEXT} ${REFERENCE_TEXT} ${REFERENCE_TEXT}`);
    const prefix = [BOS, ...story.slice(0, 299)];
    return [' Tom', ' The dog', ' One day, a bird', ' Lily'].map((s) => [...prefix, ...tok.encode(s)]);
  };

  before(async () => {
    loaded = await loadLlama2cCheckpoint(CHECKPOINT);
    tok = await loadLlama2cTokenizer(TOKENIZER, loaded.config.vocabSize);
  });

  it("reproduces llama2.c's reference text at temperature 0, token for token", async () => {
    const reference = tok.encode(REFERENCE_TEXT, { addSpecialTokens: true });
    const out = await solo([BOS], reference.length + 8);
    assert.equal(tok.decode([BOS, ...out]).slice(0, REFERENCE_TEXT.length), REFERENCE_TEXT);
    assert.deepEqual(out.slice(0, reference.length - 1), reference.slice(1));
  });

  for (const mode of MODES) {
    it(`16 identical requests decoded in one batch each equal the solo run (${mode})`, async () => {
      const steps = 200;
      const alone = await solo([BOS], steps, mode);
      const model = Model.create(loaded, storiesCache(loaded));
      const together = await generateGreedy(
        model,
        Array.from({ length: 16 }, () => [BOS]),
        steps,
        mode,
      );
      for (const [i, out] of together.outputs.entries()) assert.deepEqual(out, alone, `request ${i}`);
      // their identical chunks were stored once
      assert.ok(model.cache.stats().cachedNodes <= Math.ceil((steps + 1) / 16));
    });

    it(`requests sharing a 300-token prefix, run together, each equal their solo runs (${mode})`, async () => {
      const prompts = sharedPrefixPrompts();
      const steps = 24;
      const model = Model.create(loaded, storiesCache(loaded));
      const together = await generateGreedy(model, prompts, steps, mode);
      for (const [i, prompt] of prompts.entries()) {
        assert.deepEqual(together.outputs[i], await solo(prompt, steps, mode), `prompt ${i}`);
      }
      // the shared 18 chunks (288 tokens) are held once, not once per request
      const perRequest = Math.floor((300 + 8 + steps) / 16);
      assert.ok(model.cache.stats().cachedNodes < 18 + prompts.length * (perRequest - 18) + 1);
    });
  }

  it('a request on a cached prefix prefills only the rest and generates the same tokens', async () => {
    const [first, second] = sharedPrefixPrompts() as [number[], number[]];
    const steps = 24;
    const model = Model.create(loaded, storiesCache(loaded));
    const cold = await generateGreedy(model, [first], steps, 'tpp');
    assert.equal(cold.cached[0], 0);
    const warm = await generateGreedy(model, [first], steps, 'tpp');
    assert.ok((warm.cached[0] as number) >= 288, `cached ${warm.cached[0]} of ${first.length}`);
    assert.equal(warm.prefilled[0], first.length - (warm.cached[0] as number));
    assert.deepEqual(warm.outputs[0], cold.outputs[0]);
    // another ending on the same cached story
    const other = await generateGreedy(model, [second], steps, 'tpp');
    assert.equal(other.cached[0], 288);
    assert.deepEqual(other.outputs[0], await solo(second, steps));
  });
});
