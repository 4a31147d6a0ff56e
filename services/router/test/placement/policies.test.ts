import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDLE_LOAD } from '@chunkmesh/common';
import type { PlacementRequest, PrefixMatch, WorkerView } from '../../src/placement/placement-policy.ts';
import { createPolicy, POLICY_NAMES } from '../../src/placement/policies.ts';
import { PrefixAwarePolicy } from '../../src/placement/prefix-aware.ts';

const worker = (workerId: string, pending = 0): WorkerView => ({
  workerId,
  load: { ...IDLE_LOAD, queuedTokens: pending },
});
/** A match of n chunks, all on the device. */
const onDevice = (n: number): PrefixMatch => ({ chunks: n, device: n, host: 0, disk: 0 });
const request = (promptTokens: number, chunks: number, sessionWorker?: string): PlacementRequest => ({
  promptTokens,
  chunkKeys: BigUint64Array.from({ length: chunks }, (_, i) => BigInt(i + 1)),
  chunkTokens: 64,
  ...(sessionWorker ? { sessionWorker } : {}),
});

describe('prefix-aware placement', () => {
  const policy = new PrefixAwarePolicy({ loadWeight: 1, guardFactor: 1.25, guardSlackTokens: 1000 });

  it('sends a request to the worker holding the longest prefix when loads are even', () => {
    const p = policy.choose(
      request(1024, 16),
      [worker('a'), worker('b'), worker('c')],
      new Map([
        ['b', onDevice(10)],
        ['c', onDevice(4)],
      ]),
    );
    assert.deepEqual(p, { workerId: 'b', reason: 'prefix', predictedCachedTokens: 640 });
  });

  it('weighs cached tokens against pending tokens', () => {
    // b saves 640 prefill tokens but has 2000 pending; a has 0 cached and 100 pending
    const p = policy.choose(
      request(1024, 16),
      [worker('a', 100), worker('b', 2000)],
      new Map([['b', onDevice(10)]]),
    );
    assert.equal(p.workerId, 'a');
  });

  it('moves a hot prefix off an overloaded worker (balance guard) and says so', () => {
    // mean pending = 3000; line = 1.25 * 3000 + 1000 = 4750; b at 8000 is over it
    const workers = [worker('a', 500), worker('b', 8000), worker('c', 500)];
    const p = new PrefixAwarePolicy({ loadWeight: 0, guardFactor: 1.25, guardSlackTokens: 1000 }).choose(
      request(4096, 64),
      workers,
      new Map([['b', onDevice(64)]]),
    );
    assert.equal(p.reason, 'guard');
    assert.notEqual(p.workerId, 'b');
  });

  it('keeps a session on its worker unless that worker is over the guard line', () => {
    const even = [worker('a'), worker('b')];
    assert.equal(policy.choose(request(100, 1, 'b'), even, new Map([['a', onDevice(1)]])).reason, 'session');
    const busy = [worker('a', 0), worker('b', 50_000)];
    assert.equal(policy.choose(request(100, 1, 'b'), busy, new Map()).workerId, 'a');
  });

  it('breaks ties by worker id so replicas agree', () => {
    const p = policy.choose(request(64, 1), [worker('z'), worker('m'), worker('b')], new Map());
    assert.equal(p.workerId, 'b');
    assert.equal(p.reason, 'load');
  });
});

describe('comparison policies', () => {
  it('round-robin cycles; least-loaded picks the least pending; consistent hash is stable per first chunk', () => {
    const ws = [worker('a', 5), worker('b', 1), worker('c', 9)];
    const rr = createPolicy('round-robin');
    assert.deepEqual(
      [0, 1, 2, 3].map(() => rr.choose(request(64, 1), ws, new Map()).workerId),
      ['a', 'b', 'c', 'a'],
    );
    assert.equal(createPolicy('least-loaded').choose(request(64, 1), ws, new Map()).workerId, 'b');
    const ch = createPolicy('consistent-hash');
    const first = ch.choose(request(64, 3), ws, new Map()).workerId;
    assert.equal(ch.choose(request(640, 3), ws, new Map()).workerId, first);
    // removing another worker does not move this key
    const others = ws.filter((w) => w.workerId !== first);
    const survivor = [...others.slice(1), ws.find((w) => w.workerId === first) as WorkerView];
    assert.equal(ch.choose(request(64, 3), survivor, new Map()).workerId, first);
  });

  it('rejects unknown policy names with the list of known ones', () => {
    assert.throws(() => createPolicy('random'), new RegExp(POLICY_NAMES.join(', ')));
  });
});
