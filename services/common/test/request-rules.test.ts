import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkAgainstModel,
  checkSampling,
  checkTenancy,
  InvalidArgument,
  MAX_SESSION_ID_BYTES,
  MAX_STOP_BYTES,
  MAX_TENANT_BYTES,
  samplingInputOf,
} from '../src/index.ts';

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
    const zero = checkSampling(samplingInputOf({ temperature: 0, maxTokens: 0 }));
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

  it('top_p has presence on gRPC (a oneof): 0 and NaN are refused there as on HTTP, unset is 1', () => {
    for (const topP of [0, Number.NaN, Number.POSITIVE_INFINITY, -0.5]) {
      assert.equal(
        paramOf(() => checkSampling(samplingInputOf({ topP }))),
        'top_p',
        String(topP),
      );
      assert.equal(
        paramOf(() => checkSampling({ topP })),
        'top_p',
        String(topP),
      );
    }
    assert.equal(checkSampling(samplingInputOf({})).topP, 1);
    assert.equal(checkSampling(samplingInputOf({ topP: 0.5 })).topP, 0.5);
    for (const temperature of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.equal(
        paramOf(() => checkSampling(samplingInputOf({ temperature }))),
        'temperature',
      );
    }
  });

  it('caps what a request may make the servers keep: stop strings, tenant, session id', () => {
    const long = 'x'.repeat(MAX_STOP_BYTES + 1);
    assert.equal(
      paramOf(() => checkSampling({ stop: ['ok', long] })),
      'stop',
    );
    assert.deepEqual(checkSampling({ stop: ['x'.repeat(MAX_STOP_BYTES)] }).stop, [
      'x'.repeat(MAX_STOP_BYTES),
    ]);
    // Bytes, not characters: 86 three-byte characters are 258 bytes.
    assert.equal(
      paramOf(() => checkSampling({ stop: ['\u20ac'.repeat(86)] })),
      'stop',
    );
    const ok = { tenant: 't'.repeat(MAX_TENANT_BYTES), sessionId: 's'.repeat(MAX_SESSION_ID_BYTES) };
    assert.deepEqual(checkTenancy(ok), ok);
    assert.equal(
      paramOf(() => checkTenancy({ ...ok, tenant: `${ok.tenant}t` })),
      'tenant',
    );
    assert.equal(
      paramOf(() => checkTenancy({ ...ok, sessionId: `${ok.sessionId}s` })),
      'session_id',
    );
    assert.equal(
      paramOf(() => checkTenancy({ ...ok, sessionId: `${ok.sessionId}s` }, 'user')),
      'user',
    );
  });

  it('against the model: the context first (a huge prompt is not scanned), then the vocabulary', () => {
    const model = { vocabSize: 100, maxSeqLen: 64 };
    const s = checkSampling({ maxTokens: 10 });
    assert.equal(checkAgainstModel(s, Array(54).fill(1), model, 256), 10);
    assert.equal(
      paramOf(() => checkAgainstModel(s, Array(55).fill(1), model, 256)),
      'max_tokens',
    );
    const unset = checkSampling({});
    assert.equal(checkAgainstModel(unset, Array(40).fill(1), model, 24), 24, 'the default limit');
    // No default (the router's gRPC door leaves it to the worker): the prompt must leave one token.
    assert.equal(checkAgainstModel(unset, Array(63).fill(1), model, undefined), undefined);
    assert.equal(
      paramOf(() => checkAgainstModel(unset, Array(64).fill(1), model, undefined)),
      'prompt',
    );
    const huge = Array(1_000_000).fill(1e9);
    assert.equal(
      paramOf(() => checkAgainstModel(s, huge, model, 256)),
      'max_tokens',
    );
    assert.equal(
      paramOf(() => checkAgainstModel(s, [1, 100], model, 256)),
      'token_ids',
    );
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 32 + 1, '7' as unknown as number])
      assert.equal(
        paramOf(() => checkAgainstModel(s, [1, bad], model, 256)),
        'token_ids',
        `id ${bad}`,
      );
    // The router's copy: the ids written as they are checked.
    const ids = new Int32Array(3);
    checkAgainstModel(s, [0, 42, 99], model, 256, ids);
    assert.deepEqual([...ids], [0, 42, 99]);
    assert.throws(() => checkAgainstModel(s, [0, 42], model, 256, ids), RangeError);
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
