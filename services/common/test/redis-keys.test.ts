import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clusterKeys,
  compareStreamIds,
  eventFields,
  IDLE_LOAD,
  newEpoch,
  packKeys,
  parseEventFields,
  parseSnapshot,
  parseWorkerRecord,
  RedisFormatError,
  snapshotFields,
  unpackKeys,
  workerRecordFields,
} from '../src/index.ts';

const MAX = 2n ** 64n - 1n;

/** Field values as Redis hands them back: buffers. */
function asBuffers(fields: Record<string, string | Buffer>): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v)]));
}

describe('redis keys', () => {
  it('puts every key of a cluster under one hash tag', () => {
    const k = clusterKeys('prod-1');
    assert.equal(k.workers, 'cm:{prod-1}:workers');
    assert.equal(k.events, 'cm:{prod-1}:events');
    assert.equal(k.worker('w0'), 'cm:{prod-1}:worker:w0');
    assert.equal(k.snapshot('w0'), 'cm:{prod-1}:snap:w0');
  });

  it('rejects names that would break the layout', () => {
    assert.throws(() => clusterKeys('a}b'), RedisFormatError);
    assert.throws(() => clusterKeys(''), RedisFormatError);
    assert.throws(() => clusterKeys('ok').worker('a:b'), RedisFormatError);
  });

  it('makes distinct uint64 epochs', () => {
    const a = newEpoch();
    assert.match(a, /^\d+$/);
    assert.ok(BigInt(a) <= MAX);
    assert.notEqual(a, newEpoch());
  });

  it('orders stream ids numerically, not as strings', () => {
    assert.equal(compareStreamIds('9-0', '10-0'), -1);
    assert.equal(compareStreamIds('10-2', '10-10'), -1);
    assert.equal(compareStreamIds('10-10', '10-10'), 0);
    assert.equal(compareStreamIds('18446744073709551615-1', '18446744073709551615-0'), 1);
  });
});

describe('packed chunk keys', () => {
  it('round-trips edge and random values, little-endian', () => {
    const keys = BigUint64Array.from([0n, 1n, MAX, 0x0102030405060708n]);
    const random = new BigUint64Array(1000);
    for (let i = 0; i < random.length; i++) random[i] = BigInt(Math.floor(Math.random() * 2 ** 53)) * 4099n;
    for (const k of [keys, random, new BigUint64Array(0)]) assert.deepEqual(unpackKeys(packKeys(k)), k);
    assert.deepEqual([...packKeys(keys).subarray(24, 32)], [8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('packs plain bigint arrays and copies rather than aliasing', () => {
    const keys = BigUint64Array.from([5n, 6n]);
    const packed = packKeys(keys);
    keys[0] = 9n;
    assert.deepEqual(unpackKeys(packed), BigUint64Array.from([5n, 6n]));
    assert.deepEqual(unpackKeys(packKeys([7n, MAX])), BigUint64Array.from([7n, MAX]));
  });

  it('unpacks from any byte offset', () => {
    const packed = packKeys(BigUint64Array.from([42n, MAX]));
    const shifted = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), packed]).subarray(3);
    assert.deepEqual(unpackKeys(shifted), BigUint64Array.from([42n, MAX]));
  });

  it('rejects a length that is not whole keys', () => {
    assert.throws(() => unpackKeys(Buffer.alloc(12)), RedisFormatError);
  });
});

describe('record codecs', () => {
  it('round-trips a stream event', () => {
    const event = {
      worker: 'w1',
      epoch: '123',
      seq: 7,
      op: 'removed' as const,
      tier: 'host' as const,
      keys: BigUint64Array.from([1n, MAX]),
    };
    const flat = eventFields(event).map((v) => Buffer.from(v));
    assert.deepEqual(parseEventFields(flat), event);
  });

  it('rejects events with unknown ops, tiers or seqs', () => {
    const good = eventFields({
      worker: 'w',
      epoch: '1',
      seq: 1,
      op: 'stored',
      tier: 'device',
      keys: new BigUint64Array(1),
    });
    const bad = (i: number, v: string) => good.map((x, j) => Buffer.from(j === i ? v : x));
    assert.throws(() => parseEventFields(bad(7, 'evicted')), RedisFormatError);
    assert.throws(() => parseEventFields(bad(9, 'tape')), RedisFormatError);
    assert.throws(() => parseEventFields(bad(5, '-1')), RedisFormatError);
    assert.throws(() => parseEventFields(good.slice(2).map((v) => Buffer.from(v))), /worker is missing/);
  });

  it('round-trips moves with their from tier, and other ops without one', () => {
    const keys = BigUint64Array.from([3n, MAX]);
    const base = { worker: 'w1', epoch: '9', seq: 2, keys };
    for (const event of [
      { ...base, op: 'demoted' as const, tier: 'host' as const, from: 'device' as const },
      { ...base, op: 'demoted' as const, tier: 'disk' as const, from: 'device' as const },
      { ...base, op: 'promoted' as const, tier: 'device' as const, from: 'disk' as const },
      { ...base, op: 'promoted' as const, tier: 'host' as const, from: 'disk' as const },
      { ...base, op: 'stored' as const, tier: 'device' as const },
      { ...base, op: 'cleared' as const, tier: 'disk' as const, keys: new BigUint64Array(0) },
    ]) {
      const flat = eventFields(event).map((v) => Buffer.from(v));
      const parsed = parseEventFields(flat);
      assert.deepEqual(parsed, event);
      assert.equal('from' in parsed, 'from' in event, `${event.op}: from only on moves`);
    }
  });

  it('rejects a move without from, a from on any other op, a move the wrong way or to its own tier', () => {
    /** An entry as a writer of another version might have written it: fields as given. */
    const entry = (fields: Record<string, string>) =>
      Object.entries({ worker: 'w', epoch: '1', seq: '1', ...fields, keys: '' }).flatMap(([k, v]) => [
        Buffer.from(k),
        Buffer.from(v),
      ]);
    assert.deepEqual(parseEventFields(entry({ op: 'demoted', tier: 'disk', from: 'host' })).from, 'host');
    for (const [fields, message] of [
      [{ op: 'demoted', tier: 'host' }, /demoted has no from tier/],
      [{ op: 'promoted', tier: 'device' }, /promoted has no from tier/],
      [{ op: 'stored', tier: 'device', from: 'host' }, /stored has a from tier/],
      [{ op: 'removed', tier: 'host', from: 'device' }, /removed has a from tier/],
      [{ op: 'cleared', tier: 'disk', from: 'disk' }, /cleared has a from tier/],
      [{ op: 'demoted', tier: 'device', from: 'host' }, /wrong way/],
      [{ op: 'promoted', tier: 'disk', from: 'host' }, /wrong way/],
      [{ op: 'demoted', tier: 'host', from: 'host' }, /wrong way/],
      [{ op: 'promoted', tier: 'host', from: 'tape' }, /from tape is not one of/],
    ] as const) {
      assert.throws(() => parseEventFields(entry(fields)), message, JSON.stringify(fields));
    }
    // The writer refuses to put such an entry on the stream in the first place.
    const keys = new BigUint64Array(0);
    assert.throws(
      () => eventFields({ worker: 'w', epoch: '1', seq: 1, op: 'demoted', tier: 'host', keys }),
      /demoted has no from tier/,
    );
    assert.throws(
      () =>
        eventFields({ worker: 'w', epoch: '1', seq: 1, op: 'removed', tier: 'host', from: 'device', keys }),
      /removed has a from tier/,
    );
  });

  const record = {
    endpoint: '10.0.0.7:50051',
    modelId: 'llama',
    chunkTokens: 64,
    keyFormat: 2,
    kvDtype: 'bf16' as const,
    capacityChunks: 4096,
    epoch: newEpoch(),
    seq: 12,
    load: { ...IDLE_LOAD, queuedTokens: 300, freeChunks: 17 },
  };

  it('round-trips a registry entry, KV dtype included, and reads an expired one as null', () => {
    assert.deepEqual(parseWorkerRecord('w2', workerRecordFields(record)), { workerId: 'w2', ...record });
    for (const kvDtype of ['f32', 'f16'] as const)
      assert.equal(parseWorkerRecord('w2', workerRecordFields({ ...record, kvDtype }))?.kvDtype, kvDtype);
    assert.equal(parseWorkerRecord('w2', {}), null);
  });

  it('rejects a registry entry with a field missing or out of its range, naming the field', () => {
    const fields = workerRecordFields(record);
    const without = (name: string) => Object.fromEntries(Object.entries(fields).filter(([k]) => k !== name));
    for (const name of Object.keys(fields).filter((k) => k !== 'keyFormat'))
      assert.throws(() => parseWorkerRecord('w2', without(name)), new RegExp(`${name} is missing`));
    // Workers from before the field keyed with format 1: read as such (and so found incompatible).
    assert.equal(parseWorkerRecord('w2', without('keyFormat'))?.keyFormat, 1);
    const garbled: [string, string, RegExp][] = [
      ['kvDtype', 'fp8', /kvDtype fp8 is not one of f32, f16, bf16/],
      ['chunkTokens', '0', /chunkTokens is 0/],
      ['keyFormat', '0', /keyFormat is 0/],
      ['keyFormat', 'v2', /v2 is not an unsigned integer/],
      ['chunkTokens', '64.5', /64\.5 is not an unsigned integer/],
      ['modelId', '', /modelId is empty/],
      ['endpoint', '', /endpoint is empty/],
      ['epoch', 'abc', /epoch abc is not a decimal uint64/],
      ['capacityChunks', '-1', /-1 is not an unsigned integer/],
      ['load', '{}', /load\.queuedRequests/],
      ['load', 'not json', /load is not JSON/],
      [
        'load',
        JSON.stringify({ ...record.load, queuedTokens: -5 }),
        /load\.queuedTokens is not a number >= 0/,
      ],
    ];
    for (const [name, value, error] of garbled)
      assert.throws(() => parseWorkerRecord('w2', { ...fields, [name]: value }), error, `${name}=${value}`);
    for (const [name, value] of garbled)
      assert.throws(() => parseWorkerRecord('w2', { ...fields, [name]: value }), RedisFormatError);
  });

  it('round-trips a snapshot through buffers', () => {
    const snap = {
      epoch: '9',
      seq: 3,
      id: '1700000000000-1',
      tiers: {
        device: BigUint64Array.from([1n, 2n]),
        host: BigUint64Array.from([MAX]),
        disk: new BigUint64Array(0),
      },
    };
    assert.deepEqual(parseSnapshot('w', asBuffers(snapshotFields(snap))), snap);
    assert.equal(parseSnapshot('w', {}), null);
  });
});
