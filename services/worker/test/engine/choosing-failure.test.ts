// A failure while choosing one request's token (its constraint refusing a
// token, its mask failing to compute) ends that request with an error and
// releases its sequence; the requests batched with it, and the engine, go on.
// The failing constraints are stand-in matchers that allow every token, so
// until they fail each request decodes exactly as it would unconstrained.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORIES_DIR } from '@chunkmesh/test-support';
import type { GrammarMatcher } from '@mlc-ai/web-xgrammar';
import type { GenerateEvent, GenerateInput } from '../../src/engine/engine-types.ts';
import { TokenChooser } from '../../src/sampling/token-chooser.ts';
import { createWorkerRuntime } from '../../src/worker-runtime.ts';

const GREEDY = { temperature: 0, topK: 0, topP: 1 };
const MAX_TOKENS = 20;

/** A matcher allowing every token that refuses the one at `refuseAt`, or fails to compute a mask. */
class FailingMatcher {
  disposed = false;
  private accepted = 0;

  constructor(private readonly fail: { refuseAt?: number; maskError?: boolean }) {}

  async getNextTokenBitmask(): Promise<Int32Array> {
    if (this.fail.maskError) throw new Error('mask failed');
    return new Int32Array(64).fill(-1);
  }

  acceptToken(): boolean {
    return this.accepted++ !== this.fail.refuseAt;
  }

  isTerminated(): boolean {
    return false;
  }

  dispose(): void {
    this.disposed = true;
  }
}

function constrained(prompt: number[], matcher: FailingMatcher): TokenChooser {
  return new TokenChooser({ sampling: GREEDY }, prompt, matcher as unknown as GrammarMatcher);
}

function input(promptTokens: number[], choosers?: TokenChooser[]): GenerateInput {
  return {
    requestId: Math.random().toString(36).slice(2),
    promptTokens,
    sampling: GREEDY,
    maxTokens: MAX_TOKENS,
    eosTokenIds: [],
    stopTokenIds: [],
    stopStrings: [],
    salt: '',
    ...(choosers ? { choosers } : {}),
  };
}

async function drain(stream: AsyncIterable<GenerateEvent>) {
  const ids = new Map<number, number[]>();
  for await (const e of stream) {
    if (e.type === 'final') return { ids, final: e };
    ids.set(e.index, [...(ids.get(e.index) ?? []), ...e.ids]);
  }
  throw new Error('no final event');
}

describe('a failure while choosing a token', () => {
  it('ends that request with an error; the batch and the engine go on', { timeout: 30_000 }, async () => {
    const rt = await createWorkerRuntime({
      modelDir: STORIES_DIR,
      kvCapacityTokens: 16_384,
      chunkTokens: 16,
      dtype: 'f32',
      threads: 2,
      engine: { prefixSharing: true, stepTokens: 256, maxBatch: 64, maxQueue: 64 },
    });
    const prompts = ['Tom and Lily', 'The dog ran', 'Once upon a time', 'A big red ball'].map((s) =>
      rt.bundle.tokenizer.encode(s, { addSpecialTokens: true }),
    );
    const [a, b, c, d] = prompts as [number[], number[], number[], number[]];
    const solo = new Map<number[], number[]>();
    for (const p of prompts) solo.set(p, (await drain(rt.engine.generate(input(p)))).ids.get(0) ?? []);

    const refusing = new FailingMatcher({ refuseAt: 2 });
    const noMask = new FailingMatcher({ maskError: true });
    const refusingFork = new FailingMatcher({ refuseAt: 4 });
    // all admitted in one step, decoding in one batch
    const [okA, refused, maskless, okB, pair] = await Promise.all([
      drain(rt.engine.generate(input(a))),
      drain(rt.engine.generate(input(b, [constrained(b, refusing)]))),
      drain(rt.engine.generate(input(c, [constrained(c, noMask)]))),
      drain(rt.engine.generate(input(d))),
      // n = 2: the forked choice fails, the first one completes
      drain(
        rt.engine.generate(
          input(a, [new TokenChooser({ sampling: GREEDY }, a), constrained(a, refusingFork)]),
        ),
      ),
    ]);

    for (const [r, p] of [
      [okA, a],
      [okB, d],
    ] as const) {
      assert.equal(r.final.finishReason, 'length');
      assert.equal(r.final.error, undefined);
      assert.deepEqual(r.ids.get(0), solo.get(p));
    }

    assert.equal(refused.final.finishReason, 'error');
    assert.match(refused.final.error?.message ?? '', /the constraint refused token/);
    // the two tokens accepted were emitted, the refused third was not
    assert.deepEqual(refused.ids.get(0), solo.get(b)?.slice(0, 2));

    assert.equal(maskless.final.finishReason, 'error');
    assert.equal(maskless.final.error?.message, 'mask failed');
    assert.equal(maskless.ids.size, 0, 'no token without its mask');

    assert.deepEqual(
      pair.final.choices.map((ch) => ch.finishReason),
      ['length', 'error'],
    );
    assert.deepEqual(pair.ids.get(0), solo.get(a));
    assert.deepEqual(pair.ids.get(1), solo.get(a)?.slice(0, 4));
    assert.match(pair.final.error?.message ?? '', /the constraint refused token/);

    for (const m of [refusing, noMask, refusingFork]) assert.ok(m.disposed, 'matcher freed');
    await rt.engine.idle();
    assert.equal(rt.cache.stats().sequences, 0, 'every sequence released');

    // still serving
    const after = await drain(rt.engine.generate(input(c)));
    assert.deepEqual(after.ids.get(0), solo.get(c));
    await rt.dispose();
  });
});
