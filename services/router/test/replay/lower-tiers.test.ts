// The replayer's host and disk tiers: where evicted chunks go, what a prompt
// restores from them, and that what they say about it are stream events a
// reader accepts (the codec checks every move's direction).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventFields, parseEventFields } from '@chunkmesh/common';
import type { KvEvent } from '@chunkmesh/native';
import { ResidentReference } from '@chunkmesh/test-support';
import { LowerTiers } from '../../src/replay/lower-tiers.ts';

const keys = (...ks: number[]) => BigUint64Array.from(ks.map(BigInt));
/** Each event as the stream carries it: encoded and decoded again. */
function throughStream(events: KvEvent[]): KvEvent[] {
  return events.map((e, i) => {
    const { op, tier, from, keys } = parseEventFields(
      eventFields({ worker: 'w', epoch: '1', seq: i + 1, ...e }).map((v) => Buffer.from(v)),
    );
    return { op, tier, keys, ...(from ? { from } : {}) };
  });
}

describe('replay lower tiers', () => {
  it('demotes evicted chunks to the host, the host overflow to disk, and drops the disk overflow', () => {
    const t = new LowerTiers({ hostChunks: 2, diskChunks: 2 });
    const ref = new ResidentReference();
    ref.apply({ op: 'stored', tier: 'device', keys: keys(1, 2, 3, 4, 5) });
    for (const e of throughStream(t.evicted(keys(1, 2, 3, 4, 5)))) ref.apply(e);
    assert.deepEqual(t.sizes, { host: 2, disk: 2 });
    assert.deepEqual([...ref.keys('host')], [4n, 5n], 'the host keeps the most recent');
    assert.deepEqual([...ref.keys('disk')], [2n, 3n]);
    assert.equal(ref.tiers.size, 4, 'key 1 fell off the disk');
  });

  it('without a host tier demotes straight to disk; without either drops', () => {
    const diskOnly = new LowerTiers({ hostChunks: 0, diskChunks: 4 });
    assert.deepEqual(
      diskOnly.evicted(keys(7)).map((e) => [e.op, e.from, e.tier]),
      [['demoted', 'device', 'disk']],
    );
    const none = new LowerTiers({ hostChunks: 0, diskChunks: 0 });
    assert.deepEqual(
      none.evicted(keys(7, 8)).map((e) => [e.op, e.tier, [...e.keys]]),
      [
        ['removed', 'device', [7n]],
        ['removed', 'device', [8n]],
      ],
    );
  });

  it('restores the run of a prompt below the device, by tier, and takes it out of the tiers', () => {
    const t = new LowerTiers({ hostChunks: 2, diskChunks: 8 });
    t.evicted(keys(13, 12, 11, 10)); // 13, 12 reach the disk; 11, 10 stay on the host
    const prompt = keys(1, 10, 11, 12, 13, 14);
    assert.deepEqual(t.restore(prompt, 1, 3), { host: 2, disk: 0 }, 'only up to `to`');
    assert.deepEqual(t.restore(prompt, 1, 6), { host: 0, disk: 0 }, 'key 10 was taken: the run stops');
    assert.deepEqual(t.restore(prompt, 3, 6), { host: 0, disk: 2 }, 'stops at 14, held nowhere');
    assert.deepEqual(t.sizes, { host: 0, disk: 0 });
  });
});
