// Per-tenant limits on a manual clock: requests/s, tokens/s (charged up front, corrected at the
// end), open streams, retry hints, tenants independent, and bounded state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceExhausted } from '@chunkmesh/common';
import { type LimitName, TenantLimiter } from '../../src/limits/tenant-limiter.ts';
import { type TenantLimits, UNLIMITED } from '../../src/limits/tenant-limits.ts';

function limiter(limits: Record<string, Partial<TenantLimits>>, maxTenants = 100) {
  const clock = { now: 0 };
  const rejected: [LimitName, string][] = [];
  const l = new TenantLimiter({
    limitsOf: (t) => ({ ...UNLIMITED, ...limits[t] }),
    maxTenants,
    onReject: (limit, tenant) => rejected.push([limit, tenant]),
    now: () => clock.now,
  });
  return { l, clock, rejected };
}

/** The retryAfterMs of the ResourceExhausted `admit` throws. */
function refusal(admit: () => unknown): number {
  try {
    admit();
  } catch (err) {
    assert.ok(err instanceof ResourceExhausted, String(err));
    assert.ok(err.retryAfterMs !== undefined && err.retryAfterMs > 0);
    return err.retryAfterMs;
  }
  assert.fail('admitted');
}

describe('tenant limits', () => {
  it('requests per second: a burst of one second, then the refill rate, with the wait as the hint', () => {
    const { l, clock, rejected } = limiter({ a: { requestsPerSecond: 4 } });
    for (let i = 0; i < 4; i++) l.admit('a', 10).finish(10);
    assert.equal(
      refusal(() => l.admit('a', 10)),
      250,
    );
    clock.now = 100;
    assert.equal(
      refusal(() => l.admit('a', 10)),
      150,
    );
    clock.now = 250;
    l.admit('a', 10).finish(10);
    assert.deepEqual(rejected, [
      ['requests', 'a'],
      ['requests', 'a'],
    ]);
    // another tenant is untouched
    for (let i = 0; i < 50; i++) l.admit('b', 10).finish(10);
  });

  it('tokens per second: charged prompt + max_tokens up front, given back what was not produced', () => {
    const { l, clock } = limiter({ a: { tokensPerSecond: 1000 } });
    const big = l.admit('a', 900);
    assert.equal(
      refusal(() => l.admit('a', 200)),
      100,
      '100 tokens short at 1000/s',
    );
    big.finish(300); // produced far less than reserved: 600 back
    l.admit('a', 700).finish(700);
    // a request larger than the burst runs once the bucket is full, leaving a debt
    clock.now = 10_000;
    l.admit('a', 3000).finish(3000);
    assert.equal(
      refusal(() => l.admit('a', 1)),
      2001,
    );
    clock.now += 2001;
    l.admit('a', 1).finish(1);
  });

  it('open streams: refused while the tenant has max open, admitted again when one ends', () => {
    const { l } = limiter({ a: { maxStreams: 2 } });
    const one = l.admit('a', 1);
    const two = l.admit('a', 1);
    assert.equal(
      refusal(() => l.admit('a', 1)),
      1000,
    );
    one.finish(1);
    one.finish(1); // a second finish changes nothing
    const three = l.admit('a', 1);
    assert.equal(
      refusal(() => l.admit('a', 1)),
      1000,
    );
    two.finish(1);
    three.finish(1);
  });

  it('follows changed limits and keeps no state for unlimited tenants', () => {
    const limits: Record<string, Partial<TenantLimits>> = { a: { requestsPerSecond: 1 } };
    const { l } = limiter(limits);
    l.admit('a', 1).finish(1);
    assert.throws(() => l.admit('a', 1), ResourceExhausted);
    limits.a = { requestsPerSecond: 0 };
    l.admit('a', 1).finish(1);
    for (let i = 0; i < 10; i++) l.admit(`free-${i}`, 1).finish(1);
    assert.equal(l.tenants, 1, 'only the limited tenant has state');
  });

  it('keeps state for at most maxTenants idle tenants, never dropping one with a request open', () => {
    const limits = new Proxy({}, { get: () => ({ maxStreams: 1 }) }) as Record<string, Partial<TenantLimits>>;
    const { l } = limiter(limits, 3);
    const held = l.admit('busy', 1);
    for (let i = 0; i < 1000; i++) l.admit(`t${i}`, 1).finish(1);
    assert.equal(l.tenants, 3);
    assert.throws(() => l.admit('busy', 1), ResourceExhausted, 'the open stream is still counted');
    held.finish(1);
    l.admit('busy', 1).finish(1);
  });
});
