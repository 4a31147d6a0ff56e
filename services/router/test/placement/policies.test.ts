import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, IDLE_LOAD, parseConfig } from '@chunkmesh/common';
import type { PlacementRequest, PrefixMatch, WorkerView } from '../../src/placement/placement-policy.ts';
import { createPolicy, POLICY_NAMES } from '../../src/placement/policies.ts';
import {
  DEFAULT_PREFIX_AWARE,
  PrefixAwarePolicy,
  type TierWeights,
} from '../../src/placement/prefix-aware.ts';
import { tierWeightsOf } from '../../src/placement/tier-weight-options.ts';
import { routerOptions } from '../../src/router-options.ts';

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
  const policy = new PrefixAwarePolicy({
    ...DEFAULT_PREFIX_AWARE,
    loadWeight: 1,
    guardFactor: 1.25,
    guardSlackTokens: 1000,
  });

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
    const p = new PrefixAwarePolicy({
      ...DEFAULT_PREFIX_AWARE,
      loadWeight: 0,
      guardFactor: 1.25,
      guardSlackTokens: 1000,
    }).choose(request(4096, 64), workers, new Map([['b', onDevice(64)]]));
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

describe('tier-weighted placement', () => {
  const tiered = (device: number, host: number, disk: number): PrefixMatch => ({
    chunks: device + host + disk,
    device,
    host,
    disk,
  });
  const weighted = (tierWeights: TierWeights) =>
    new PrefixAwarePolicy({ ...DEFAULT_PREFIX_AWARE, tierWeights });
  // One 16-chunk prefix on three idle workers, on the disk of the one a tie-break prefers.
  const holders = new Map([
    ['a', tiered(0, 0, 16)],
    ['b', tiered(0, 16, 0)],
    ['c', tiered(16, 0, 0)],
  ]);
  const without = (gone: string) => new Map([...holders].filter(([id]) => id !== gone));
  const idle = ['a', 'b', 'c', 'd'].map((id) => worker(id));

  it('prefers the device holder, then the host holder, then the disk holder', () => {
    const policy = weighted(DEFAULT_PREFIX_AWARE.tierWeights);
    const req = request(1100, 16);
    assert.deepEqual(policy.choose(req, idle, holders), {
      workerId: 'c',
      reason: 'prefix',
      predictedCachedTokens: 1024,
    });
    const noDevice = idle.filter((w) => w.workerId !== 'c');
    assert.equal(policy.choose(req, noDevice, without('c')).workerId, 'b');
    const diskOnly = noDevice.filter((w) => w.workerId !== 'b');
    const onDisk = policy.choose(req, diskOnly, without('c'));
    assert.deepEqual(
      onDisk,
      { workerId: 'a', reason: 'prefix', predictedCachedTokens: 1024 },
      'over the idle d',
    );
  });

  it('with equal weights the tiers do not matter: the tie-break picks the disk holder', () => {
    assert.equal(
      weighted({ device: 1, host: 1, disk: 1 }).choose(request(1100, 16), idle, holders).workerId,
      'a',
    );
  });

  it('weighs a longer prefix lower down against a shorter one on the device', () => {
    const policy = weighted(DEFAULT_PREFIX_AWARE.tierWeights);
    // 10 device chunks = 640 tokens; 16 host chunks = 0.75 * 1024 = 768: the host holder wins.
    const longHost = new Map([
      ['a', tiered(10, 0, 0)],
      ['b', tiered(0, 16, 0)],
    ]);
    assert.equal(policy.choose(request(1100, 16), idle, longHost).workerId, 'b');
    // On disk the same 16 chunks count 256 tokens: the device holder wins; a mixed prefix sums its tiers.
    const longDisk = new Map([
      ['a', tiered(10, 0, 0)],
      ['b', tiered(0, 0, 16)],
      ['c', tiered(4, 4, 4)], // 256 + 192 + 64 = 512
    ]);
    assert.equal(policy.choose(request(1100, 16), idle, longDisk).workerId, 'a');
    // Weighting changes the cost, not the prediction: what the chosen worker will find is all of it.
    assert.equal(policy.choose(request(1100, 16), idle, longHost).predictedCachedTokens, 1024);
  });

  it('a prefix only on disk with disk weight 0 still counts as held, but saves nothing in the cost', () => {
    const policy = weighted({ device: 1, host: 0.5, disk: 0 });
    const busy = [worker('a', 10), worker('b', 0)];
    const p = policy.choose(request(1100, 16), busy, new Map([['a', tiered(0, 0, 16)]]));
    assert.deepEqual(p, { workerId: 'b', reason: 'load', predictedCachedTokens: 0 });
  });

  it('refuses weights out of [0, 1] or rising down the tiers, with a clear error', () => {
    for (const [w, message] of [
      [{ device: 1, host: 0.8, disk: 0.9 }, /device >= host >= disk.*host 0\.8, disk 0\.9/],
      [{ device: 0.5, host: 0.75, disk: 0.25 }, /device >= host >= disk/],
      [{ device: 1.5, host: 0.75, disk: 0.25 }, /tier weight device must be in \[0, 1\], got 1\.5/],
      [{ device: 1, host: 0.75, disk: -0.1 }, /tier weight disk must be in \[0, 1\]/],
      [{ device: 1, host: Number.NaN, disk: 0 }, /tier weight host/],
    ] as const) {
      assert.throws(
        () => weighted(w),
        (e) => e instanceof ConfigError && message.test(e.message),
      );
      assert.throws(
        () => createPolicy('prefix-aware', { ...DEFAULT_PREFIX_AWARE, tierWeights: w }),
        ConfigError,
      );
    }
  });

  it('reads the weights from the router flags and environment, defaults 1, 0.75, 0.25', () => {
    const info = { program: 'router', summary: '' };
    const parsed = (argv: string[], env: Record<string, string> = {}) => {
      const r = parseConfig(routerOptions, info, argv, env);
      assert.ok('config' in r);
      return tierWeightsOf(r.config);
    };
    assert.deepEqual(parsed([]), { device: 1, host: 0.75, disk: 0.25 });
    assert.deepEqual(parsed(['--tier-weight-host', '0.5'], { CHUNKMESH_TIER_WEIGHT_DISK: '0.1' }), {
      device: 1,
      host: 0.5,
      disk: 0.1,
    });
    assert.throws(() => parsed(['--tier-weight-disk', '2']), /--tier-weight-disk: expected a value <= 1/);
    assert.throws(() => parsed(['--tier-weight-host', '0.2']), /device >= host >= disk/);
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
