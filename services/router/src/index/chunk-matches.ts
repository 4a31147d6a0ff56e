// The answer of ChunkTable.longestPrefix: per holder id, how many of the
// prompt's chunks it holds and in which tiers. Kept in arrays the table reuses
// from call to call (a slot per holder id), so a prompt whose prefix many
// workers hold (a hot system prompt: dozens) costs no map insert and no object
// per holder; a policy's get() makes the one object it reads. An answer is
// good until the table's next longestPrefix, which reuses the arrays: reading
// it after that throws rather than answering for another prompt.
import type { PrefixMatch, PrefixMatches } from '../placement/placement-policy.ts';

/** Holder ids remembered at most before the slots are forgotten and made again (ids of gone workers). */
const MAX_SLOTS = 4096;

/** The arrays behind every answer of one table. */
export class MatchSlots {
  private readonly slotOf = new Map<string, number>();
  private ids: string[] = [];
  /** Per slot: the call whose answer it belongs to, and that answer. */
  private call = new Int32Array(64);
  private chunks = new Int32Array(64);
  private host = new Int32Array(64);
  private disk = new Int32Array(64);
  private calls = 0;
  private size = 0;

  /** Starts the next answer; every earlier one goes stale. */
  begin(): void {
    // Stamps stay int32: at the last one, every slot's is forgotten and counting starts again.
    if (this.calls === 0x7fffffff) {
      this.call.fill(0);
      this.calls = 0;
    }
    this.calls++;
    this.size = 0;
    if (this.slotOf.size > MAX_SLOTS) {
      this.slotOf.clear();
      this.ids = [];
    }
  }

  /** The holder id holds n chunks of the prompt, onHost of them on the host and onDisk on disk. */
  record(id: string, n: number, onHost: number, onDisk: number): void {
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      slot = this.ids.length;
      this.ids.push(id);
      this.slotOf.set(id, slot);
      if (slot >= this.call.length) this.grow();
    }
    if (this.call[slot] !== this.calls) this.size++;
    this.call[slot] = this.calls;
    this.chunks[slot] = n;
    this.host[slot] = onHost;
    this.disk[slot] = onDisk;
  }

  /** The answer begun last. */
  answer(): ChunkMatches {
    return new ChunkMatches(this, this.calls, this.size);
  }

  /** @internal for ChunkMatches */
  read(call: number, id: string): PrefixMatch | undefined {
    if (call !== this.calls) throw new Error('prefix matches read after the next longestPrefix');
    const slot = this.slotOf.get(id);
    if (slot === undefined || this.call[slot] !== call) return undefined;
    const chunks = this.chunks[slot] as number;
    const host = this.host[slot] as number;
    const disk = this.disk[slot] as number;
    return { chunks, device: chunks - host - disk, host, disk };
  }

  /** @internal for ChunkMatches */
  holders(call: number): string[] {
    return this.ids.filter((id) => this.read(call, id) !== undefined);
  }

  private grow(): void {
    const grown = (a: Int32Array) => {
      const b = new Int32Array(2 * a.length);
      b.set(a);
      return b;
    };
    this.call = grown(this.call);
    this.chunks = grown(this.chunks);
    this.host = grown(this.host);
    this.disk = grown(this.disk);
  }
}

export class ChunkMatches implements PrefixMatches {
  constructor(
    private readonly slots: MatchSlots,
    private readonly call: number,
    readonly size: number,
  ) {}

  get(workerId: string): PrefixMatch | undefined {
    return this.slots.read(this.call, workerId);
  }

  /** The answer as a Map (for logs and tests): holder id -> its match. */
  toMap(): Map<string, PrefixMatch> {
    return new Map(this.slots.holders(this.call).map((id) => [id, this.get(id) as PrefixMatch]));
  }
}
