import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSampling, InvalidArgument, samplingInputOf } from '../src/index.ts';

function paramOf(f: () => unknown): string | null {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof InvalidArgument);
    return err.param;
  }
  assert.fail('expected an InvalidArgument');
}

describe('request rules (both front doors and the worker)', () => {
  it('one range per parameter, whichever door: HTTP fields and gRPC messages fail alike', () => {
    const cases: [Parameters<typeof checkSampling>[0], string][] = [
      [{ temperature: 2.5 }, 'temperature'],
      [{ temperature: -0.1 }, 'temperature'],
      [{ temperature: Number.NaN }, 'temperature'],
      [{ topP: 1.5 }, 'top_p'],
      [{ topK: 1.5 }, 'top_k'],
      [{ maxTokens: 2 ** 32 }, 'max_tokens'],
      [{ stop: Array.from({ length: 17 }, (_, i) => `s${i}`) }, 'stop'],
      [{ seed: 2n ** 64n }, 'seed'],
      [{ seed: -(2n ** 63n) - 1n }, 'seed'],
    ];
    for (const [input, param] of cases) {
      assert.equal(
        paramOf(() => checkSampling(input)),
        param,
        JSON.stringify(input, (_, v) => String(v)),
      );
    }
    // The gRPC form of the same values.
    assert.equal(
      paramOf(() => checkSampling(samplingInputOf({ temperature: 2.5 }))),
      'temperature',
    );
    assert.equal(
      paramOf(() => checkSampling(samplingInputOf({ topP: 1.5 }))),
      'top_p',
    );
    assert.equal(checkSampling({ temperature: 2 }).temperature, 2, 'the top of the range');
  });

  it("proto3 zero values are 'not given'; the HTTP door gives 0 explicitly", () => {
    const zero = checkSampling(samplingInputOf({ temperature: 0, topP: 0, maxTokens: 0 }));
    assert.deepEqual([zero.temperature, zero.topP, zero.maxTokens], [0, 1, 0]);
    assert.equal(
      paramOf(() => checkSampling({ topP: 0 })),
      'top_p',
    );
    assert.equal(
      paramOf(() => checkSampling({ maxTokens: 0 })),
      'max_tokens',
    );
  });

  it('seeds: the whole int64 and uint64 ranges, sent as their uint64 bits', () => {
    assert.equal(checkSampling({ seed: 2n ** 63n - 1n }).seed, '9223372036854775807');
    assert.equal(checkSampling({ seed: -1n }).seed, '18446744073709551615');
    assert.equal(checkSampling({ seed: -(2n ** 63n) }).seed, '9223372036854775808');
    assert.equal(
      checkSampling(samplingInputOf({ seed: '18446744073709551615' })).seed,
      '18446744073709551615',
    );
    assert.equal(checkSampling({}).seed, undefined);
  });
});
