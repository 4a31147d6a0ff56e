// Per-tenant admission on one router: requests per second, tokens per second
// (the prompt plus max_tokens is charged when a request starts, corrected to
// what it really produced when it ends) and requests open at once. A request
// over a limit is refused at once with RESOURCE_EXHAUSTED (HTTP 429) and when
// to retry, before it costs a worker anything: one tenant's flood takes its
// own share and leaves the others' untouched.
//
// Memory is bounded: state is kept for the maxTenants most recently seen
// tenants (plus any with a request open); a forgotten tenant starts again
// with full buckets, which only matters past maxTenants distinct tenants.
import { ResourceExhausted } from '@chunkmesh/common';
import type { TenantLimits } from './tenant-limits.ts';
import { TokenBucket } from './token-bucket.ts';

export type LimitName = 'requests' | 'tokens' | 'streams';

export interface Admission {
  /** The request ended having used `tokens` (prompt plus generated); frees its stream. Call once. */
  finish(tokens: number): void;
}

export interface TenantLimiterOptions {
  limitsOf: (tenant: string) => TenantLimits;
  /** Tenants whose state is kept (least recently seen forgotten first). */
  maxTenants: number;
  onReject?: (limit: LimitName, tenant: string) => void;
  now?: () => number;
}

/** A full stream slot frees when some request ends: no better hint than a second. */
const STREAM_RETRY_MS = 1000;

class TenantState {
  requests: TokenBucket | undefined;
  tokens: TokenBucket | undefined;
  streams = 0;

  /** Follows the tenant's current limits (they change when the key file is reloaded). */
  sync(limits: TenantLimits, now: number): void {
    this.requests = bucketFor(this.requests, limits.requestsPerSecond, now);
    this.tokens = bucketFor(this.tokens, limits.tokensPerSecond, now);
  }
}

function bucketFor(bucket: TokenBucket | undefined, rate: number, now: number): TokenBucket | undefined {
  if (rate <= 0) return undefined;
  if (!bucket) return new TokenBucket(rate, now);
  bucket.setRate(rate);
  return bucket;
}

const NOTHING_TO_FINISH: Admission = { finish: () => undefined };

export class TenantLimiter {
  /** In least recently seen order (a Map iterates in insertion order; a visit re-inserts). */
  private readonly states = new Map<string, TenantState>();
  private readonly now: () => number;

  constructor(private readonly o: TenantLimiterOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Tenants with state kept. */
  get tenants(): number {
    return this.states.size;
  }

  /** Admits a request of `tokens` (prompt plus max_tokens) or throws ResourceExhausted with retryAfterMs. */
  admit(tenant: string, tokens: number): Admission {
    const limits = this.o.limitsOf(tenant);
    if (limits.requestsPerSecond <= 0 && limits.tokensPerSecond <= 0 && limits.maxStreams <= 0) {
      return NOTHING_TO_FINISH;
    }
    const now = this.now();
    const state = this.visit(tenant);
    state.sync(limits, now);
    const who = tenant === '' ? 'the default tenant' : `tenant '${tenant}'`;
    if (limits.maxStreams > 0 && state.streams >= limits.maxStreams) {
      this.refuse(
        tenant,
        'streams',
        `${who} has ${state.streams} requests open (limit ${limits.maxStreams})`,
        STREAM_RETRY_MS,
      );
    }
    const requestWait = state.requests?.waitMs(1, now) ?? 0;
    if (requestWait > 0)
      this.refuse(
        tenant,
        'requests',
        `${who} is over ${limits.requestsPerSecond} requests per second`,
        requestWait,
      );
    const tokenWait = state.tokens?.waitMs(tokens, now) ?? 0;
    if (tokenWait > 0)
      this.refuse(tenant, 'tokens', `${who} is over ${limits.tokensPerSecond} tokens per second`, tokenWait);
    state.requests?.take(1, now);
    state.tokens?.take(tokens, now);
    state.streams++;
    let finished = false;
    return {
      finish: (used) => {
        if (finished) return;
        finished = true;
        state.streams--;
        state.tokens?.give(tokens - used, this.now());
      },
    };
  }

  private refuse(tenant: string, limit: LimitName, why: string, retryAfterMs: number): never {
    this.o.onReject?.(limit, tenant);
    throw new ResourceExhausted(`${why}; retry after ${(Math.ceil(retryAfterMs / 100) / 10).toFixed(1)} s`, {
      retryAfterMs,
    });
  }

  private visit(tenant: string): TenantState {
    const state = this.states.get(tenant) ?? new TenantState();
    this.states.delete(tenant);
    this.states.set(tenant, state);
    if (this.states.size > this.o.maxTenants) {
      for (const [t, s] of this.states) {
        if (this.states.size <= this.o.maxTenants) break;
        // A tenant with a request open keeps its state: its stream count must stay right.
        if (s.streams === 0 && t !== tenant) this.states.delete(t);
      }
    }
    return state;
  }
}
