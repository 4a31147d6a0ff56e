// Per-worker circuit breaker: after `threshold` consecutive failures a worker
// is skipped for `openMs`, then tried again by one request (half-open); a
// success closes it. Keeps a failing worker from eating every retry while its
// heartbeat has not yet expired.

export class CircuitBreaker {
  private readonly failures = new Map<string, number>();
  private readonly openUntil = new Map<string, number>();

  constructor(
    private readonly threshold = 3,
    private readonly openMs = 5_000,
  ) {}

  /** now: the clock, read only for an open breaker (every placement asks of every live worker). */
  allows(workerId: string, now?: number): boolean {
    if (this.openUntil.size === 0) return true;
    const until = this.openUntil.get(workerId);
    if (until === undefined) return true;
    if ((now ?? Date.now()) < until) return false;
    // half-open: let one request through; a failure re-opens at once
    this.openUntil.delete(workerId);
    this.failures.set(workerId, this.threshold - 1);
    return true;
  }

  success(workerId: string): void {
    this.failures.delete(workerId);
    this.openUntil.delete(workerId);
  }

  failure(workerId: string, now = Date.now()): void {
    const n = (this.failures.get(workerId) ?? 0) + 1;
    this.failures.set(workerId, n);
    if (n >= this.threshold) this.openUntil.set(workerId, now + this.openMs);
  }

  /** Drops the state of workers no longer live, so it stays bounded by the cluster's size. */
  retain(live: ReadonlySet<string>): void {
    for (const id of this.failures.keys()) if (!live.has(id)) this.failures.delete(id);
    for (const id of this.openUntil.keys()) if (!live.has(id)) this.openUntil.delete(id);
  }
}
