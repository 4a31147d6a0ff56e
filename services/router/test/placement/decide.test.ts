// decide(): the one placement decision of the router, bench:router and
// replay, over a recording index, so what it asks and records is visible.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDLE_LOAD } from '@chunkmesh/common';
import { chunkKeys } from '@chunkmesh/native';
import { type DecisionStage, decide, type PlacementIndex } from '../../src/placement/decide.ts';
import type { PrefixMatch } from '../../src/placement/placement-policy.ts';
import { createPolicy } from '../../src/placement/policies.ts';

const CONSTANTS = { modelId: 'decide-test', chunkTokens: 4 };
const prompt = Array.from({ length: 10 }, (_, i) => 100 + i); // 2 full chunks and 2 tokens

class RecordingIndex implements PlacementIndex {
  readonly asked: BigUint64Array[] = [];
  readonly speculated: [string, BigUint64Array, number][] = [];
  constructor(private readonly held: Map<string, PrefixMatch>) {}
  longestPrefix(keys: BigUint64Array): Map<string, PrefixMatch> {
    this.asked.push(keys);
    return this.held;
  }
  speculate(workerId: string, keys: BigUint64Array, ttlMs: number): void {
    this.speculated.push([workerId, keys, ttlMs]);
  }
}

const workers = ['a', 'b', 'c'].map((workerId) => ({ workerId, load: IDLE_LOAD, endpoint: `${workerId}:1` }));

describe('decide', () => {
  it("looks up the prompt's chunk keys in the tenant's key space, places by the policy and speculates", () => {
    const index = new RecordingIndex(new Map([['b', { chunks: 2, device: 2, host: 0, disk: 0 }]]));
    const stages: DecisionStage[] = [];
    const d = decide(
      { constants: CONSTANTS, policy: createPolicy('prefix-aware'), index, speculationTtlMs: 250 },
      { promptTokens: prompt, tenant: 'acme' },
      workers,
      (s) => stages.push(s),
    );
    const keys = chunkKeys({ ...CONSTANTS, salt: 'acme' }, prompt);
    assert.equal(keys.length, 2);
    assert.deepEqual(index.asked, [keys]);
    assert.deepEqual(
      { workerId: d.workerId, reason: d.reason, predicted: d.predictedCachedTokens },
      { workerId: 'b', reason: 'prefix', predicted: 8 },
    );
    assert.equal(d.worker, workers[1], 'the caller gets its own worker object back');
    assert.deepEqual(index.speculated, [['b', keys, 250]]);
    assert.deepEqual(stages, ['keys', 'lookup', 'policy', 'speculate']);
  });

  it('passes the session worker to the policy', () => {
    const index = new RecordingIndex(new Map());
    const d = decide(
      { constants: CONSTANTS, policy: createPolicy('prefix-aware'), index, speculationTtlMs: 0 },
      { promptTokens: prompt, tenant: '', sessionWorker: 'c' },
      workers,
    );
    assert.deepEqual([d.workerId, d.reason], ['c', 'session']);
  });
});
