// Multi-turn affinity: which worker served a session last. Bounded (least
// recently used sessions drop first) and aged out, so it never grows with
// traffic; losing an entry only costs one placement by prefix instead.

export class SessionTable {
  private readonly map = new Map<string, { workerId: string; at: number }>();

  constructor(
    private readonly maxSessions = 100_000,
    private readonly ttlMs = 30 * 60_000,
  ) {}

  get(sessionId: string, now = Date.now()): string | undefined {
    const e = this.map.get(sessionId);
    if (!e) return undefined;
    if (now - e.at > this.ttlMs) {
      this.map.delete(sessionId);
      return undefined;
    }
    return e.workerId;
  }

  set(sessionId: string, workerId: string, now = Date.now()): void {
    this.map.delete(sessionId);
    this.map.set(sessionId, { workerId, at: now });
    if (this.map.size > this.maxSessions) this.map.delete(this.map.keys().next().value as string);
  }

  get size(): number {
    return this.map.size;
  }
}
