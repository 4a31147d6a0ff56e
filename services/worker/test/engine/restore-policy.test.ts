// The restore-or-recompute decision: a read from disk pays only when it beats
// the prefill it replaces, which counts every token from the first chunk not
// on the device or host (the prefix behind it cannot be used without it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Hold } from '@chunkmesh/native';
import { type RestoreRates, restoreEstimate } from '../../src/engine/restore-policy.ts';

const rates: RestoreRates = {
  diskReadBytesPerSecond: 1e9, // 1 GB/s
  prefillTokensPerSecond: 10_000,
  chunkTokens: 64,
  chunkBytes: 1 << 20, // 1 MiB a chunk: 61 µs of disk for 64 tokens, 6.4 ms of prefill
};

function hold(device: number, host: number, disk: number, usable: number): Hold {
  return { ticket: 1, tokens: { device, host, disk }, usableTokens: usable };
}

describe('restore or recompute', () => {
  it('restores when the read beats the prefill it replaces', () => {
    const e = restoreEstimate(hold(128, 0, 256, 128), rates);
    assert.equal(e.restore, true);
    assert.ok(Math.abs(e.restoreSeconds - (4 * (1 << 20)) / 1e9) < 1e-12);
    assert.ok(Math.abs(e.recomputeSeconds - 256 / 10_000) < 1e-12);
  });

  it('recomputes when the disk is slower than the model', () => {
    const slow = { ...rates, diskReadBytesPerSecond: 50e6, prefillTokensPerSecond: 200_000 };
    const e = restoreEstimate(hold(0, 0, 128, 0), slow);
    assert.equal(e.restore, false);
    assert.ok(e.restoreSeconds > e.recomputeSeconds);
  });

  it('counts host chunks behind the first disk chunk as recomputed too', () => {
    // 64 disk tokens, then 640 host tokens that cannot be used without them
    const e = restoreEstimate(hold(0, 640, 64, 0), { ...rates, diskReadBytesPerSecond: 1e8 });
    assert.ok(Math.abs(e.recomputeSeconds - 704 / 10_000) < 1e-12);
    assert.equal(e.restore, true);
  });

  it('has nothing to restore without disk chunks, and obeys always and never', () => {
    assert.equal(restoreEstimate(hold(256, 64, 0, 320), rates, 'always').restore, false);
    const slow = { ...rates, diskReadBytesPerSecond: 1 };
    assert.equal(restoreEstimate(hold(0, 0, 64, 0), slow, 'always').restore, true);
    assert.equal(restoreEstimate(hold(0, 0, 64, 0), rates, 'never').restore, false);
  });
});
