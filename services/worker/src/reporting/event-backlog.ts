// Tree events not yet written to Redis. Bounded by key count: past the bound
// the events are worth less than the memory they hold, because the mirror
// already has their effect and one resync replaces them all.
import type { KvEvent } from '@chunkmesh/native';

export class EventBacklog {
  private events: KvEvent[] = [];
  private keyCount = 0;

  constructor(private readonly maxKeys: number) {}

  /** Returns false, leaving the backlog empty, when these events would exceed the bound. */
  push(events: readonly KvEvent[]): boolean {
    for (const e of events) {
      this.events.push(e);
      this.keyCount += e.keys.length;
    }
    if (this.keyCount <= this.maxKeys) return true;
    this.take();
    return false;
  }

  take(): KvEvent[] {
    const out = this.events;
    this.events = [];
    this.keyCount = 0;
    return out;
  }

  get keys(): number {
    return this.keyCount;
  }

  get length(): number {
    return this.events.length;
  }
}
