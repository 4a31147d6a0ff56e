import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDLE_LOAD, type WorkerLoad } from '@chunkmesh/common';
import { ForwardedLoad } from '../../src/forwarding/forwarded-load.ts';

const worker = (workerId: string, load: Partial<WorkerLoad> = {}) => ({
  workerId,
  load: { ...IDLE_LOAD, ...load },
});

describe('forwarded load', () => {
  it('adds what the router forwarded since the last heartbeat it read, and nothing else', () => {
    const fl = new ForwardedLoad();
    const a = worker('a', { runningTokens: 100 });
    const b = worker('b');
    assert.deepEqual(
      [a, b].map((w) => fl.adjusted(w)),
      [a, b],
      'nothing forwarded: the views as they are',
    );

    const done1 = fl.forward(a, 40);
    const done2 = fl.forward(a, 60);
    const [a1, b1] = [a, b].map((w) => fl.adjusted(w));
    assert.deepEqual(a1?.load, { ...a.load, queuedRequests: 2, queuedTokens: 100 });
    assert.equal(b1, b, 'another worker is untouched');
    assert.equal(a.load.queuedTokens, 0, 'the reported load is not modified');

    done1();
    done1();
    assert.deepEqual(fl.adjusted(a)?.load, { ...a.load, queuedRequests: 1, queuedTokens: 60 });

    // A new heartbeat includes what was in flight when it was read.
    const a2 = worker('a', { runningTokens: 160, runningSequences: 1 });
    assert.equal(fl.adjusted(a2), a2);
    done2();
    // Forwarded after that heartbeat: counted on top of it.
    const done3 = fl.forward(a2, 10);
    assert.deepEqual(fl.adjusted(a2)?.load, { ...a2.load, queuedRequests: 1, queuedTokens: 10 });
    done3();
    assert.equal(fl.adjusted(a2), a2);
  });
});
