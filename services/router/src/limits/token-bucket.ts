// A token bucket: `rate` tokens a second, holding at most one second's worth
// (the burst). A take may overdraw it (a request larger than the burst still
// runs once the bucket is full), and what was taken can be given back or
// charged further once the real cost is known; while the level is below what
// a take needs, waitMs says how long until it is not.

export class TokenBucket {
  private level: number;
  private at: number;

  constructor(
    private rate: number,
    now: number,
  ) {
    this.level = rate;
    this.at = now;
  }

  /** Changes the rate (a reloaded key file), keeping the level within the new burst. */
  setRate(rate: number): void {
    this.rate = rate;
    this.level = Math.min(this.level, rate);
  }

  /**
   * Milliseconds until a take of `need` may proceed: the level must reach `need`, or, for takes
   * larger than the burst, be full. 0 when it may proceed now.
   */
  waitMs(need: number, now: number): number {
    this.refill(now);
    const target = Math.min(need, this.rate);
    return this.level >= target ? 0 : ((target - this.level) / this.rate) * 1000;
  }

  /** Removes n tokens (the level may go negative: a debt later takes wait out). */
  take(n: number, now: number): void {
    this.refill(now);
    this.level -= n;
  }

  /** Adds n tokens back (n < 0 charges more), never above the burst. */
  give(n: number, now: number): void {
    this.refill(now);
    this.level = Math.min(this.rate, this.level + n);
  }

  private refill(now: number): void {
    this.level = Math.min(this.rate, this.level + ((now - this.at) / 1000) * this.rate);
    this.at = now;
  }
}
