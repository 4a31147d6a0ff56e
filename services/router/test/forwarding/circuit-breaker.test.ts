// The circuit breaker's states: closed, open for openMs after `threshold`
// consecutive failures, then half-open (one request through; a failure
// re-opens at once, a success closes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker } from '../../src/forwarding/circuit-breaker.ts';

test('opens after threshold failures, half-opens after openMs, closes on success', () => {
  const b = new CircuitBreaker(2, 1_000);
  assert.equal(b.allows('w'), true, 'closed: no clock needed');
  b.failure('w', 100);
  assert.equal(b.allows('w', 100), true, 'one failure is under the threshold');
  b.failure('w', 200);
  assert.equal(b.allows('w', 1_199), false, 'open');
  assert.equal(b.allows('other', 1_199), true, 'per worker');
  assert.equal(b.allows('w', 1_200), true, 'half-open: one request through');
  b.failure('w', 1_300);
  assert.equal(b.allows('w', 1_301), false, 'a half-open failure re-opens at once');
  assert.equal(b.allows('w', 2_300), true);
  b.success('w');
  b.failure('w', 2_400);
  assert.equal(b.allows('w', 2_401), true, 'a success closed it: failures count from zero');
  b.failure('w');
  assert.equal(b.allows('w'), false, 'open by the real clock: read when the breaker is open');
});
