// Multi-turn affinity: which worker served a session last. Bounded in bytes
// (least recently used sessions drop first; session ids are capped by the
// request rules, but a million short ones add up too) and aged out, so it
// never grows with traffic; losing an entry only costs one placement by
// prefix instead.

/**
 * What one entry costs beyond its strings: the Map slot, the entry object and its fields (V8,
 * 64-bit, measured to within a factor of two; the bound need not be exact, only proportional).
 */
const ENTRY_OVERHEAD_BYTES = 120;

/** Bytes of a string in V8's two-byte form, the most it takes. */
function stringBytes(s: string): number {
  return 2 * s.length;
}

export class SessionTable {
  private readonly map = new Map<string, { workerId: string; at: number; bytes: number }>();
  private totalBytes = 0;

  constructor(
    private readonly maxBytes = 16 * 1024 * 1024,
    private readonly ttlMs = 30 * 60_000,
  ) {}

  get(sessionId: string, now = Date.now()): string | undefined {
    const e = this.map.get(sessionId);
    if (!e) return undefined;
    if (now - e.at > this.ttlMs) {
      this.remove(sessionId);
      return undefined;
    }
    return e.workerId;
  }

  set(sessionId: string, workerId: string, now = Date.now()): void {
    this.remove(sessionId);
    const bytes = ENTRY_OVERHEAD_BYTES + stringBytes(sessionId) + stringBytes(workerId);
    if (bytes > this.maxBytes) return;
    this.map.set(sessionId, { workerId, at: now, bytes });
    this.totalBytes += bytes;
    for (const oldest of this.map.keys()) {
      if (this.totalBytes <= this.maxBytes) break;
      this.remove(oldest);
    }
  }

  get size(): number {
    return this.map.size;
  }

  /** What the entries are counted as taking (at most maxBytes). */
  get bytes(): number {
    return this.totalBytes;
  }

  private remove(sessionId: string): void {
    const e = this.map.get(sessionId);
    if (!e) return;
    this.map.delete(sessionId);
    this.totalBytes -= e.bytes;
  }
}
