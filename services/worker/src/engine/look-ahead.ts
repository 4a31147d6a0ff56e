// The engine's look-ahead over its wait queue, for a cache with tiers below
// the device (CachedAttention's scheduler-aware fetching and eviction). The
// first `window` waiting requests each get a hold on their cached prefix, so
// eviction spares it while they wait; a prefix partly on disk is read back
// (and moved on to the device) ahead of the request's turn when that beats
// recomputing it. A request whose prefix is being read is not admitted yet,
// and does not hold up the requests behind it: the disk IO runs on the
// cache's IO threads while the steps go on.
//
// One owner: the engine calls every method on the JavaScript thread; the
// hold and fetch promises settle there too.
import type { FetchResult, Hold, KvCache } from '@chunkmesh/native';
import type { RequestState } from './request-state.ts';
import { type RestoreMode, type RestoreRates, restoreEstimate } from './restore-policy.ts';

type Stage = 'holding' | 'restoring' | 'ready';

interface Entry {
  stage: Stage;
  /** The hold's ticket once it is known (0: nothing matched). */
  ticket: number;
  /** Wait for the hold before admitting: the cache had chunks on disk when the request came. */
  mustWait: boolean;
}

export interface LookAheadObserver {
  onRestore?(result: FetchResult): void;
}

export interface LookAheadOptions {
  /** Waiting requests held at most (from the front of the queue). */
  window: number;
  rates: RestoreRates;
  restore: RestoreMode;
  /** How the engine will admit the request: its salt and how many leading tokens may match. */
  matchOf(r: RequestState): { salt: string; maxMatch: number };
}

export class LookAhead {
  private readonly entries = new Map<RequestState, Entry>();
  private drops: number[] = [];
  private wakers: (() => void)[] = [];

  constructor(
    private readonly cache: KvCache,
    private readonly options: LookAheadOptions,
    private readonly observer: LookAheadObserver = {},
  ) {}

  /** Holds the prefixes of the first `window` waiting requests that have no hold yet. */
  watch(waiting: readonly RequestState[]): void {
    let mustWait: boolean | undefined;
    for (const r of waiting.slice(0, this.options.window)) {
      if (this.entries.has(r)) continue;
      mustWait ??= this.cache.stats().diskNodes > 0;
      const entry: Entry = { stage: 'holding', ticket: 0, mustWait };
      this.entries.set(r, entry);
      const { salt, maxMatch } = this.options.matchOf(r);
      this.cache.hold(r.context, { salt, maxMatchTokens: maxMatch }).then(
        (h) => this.held(r, entry, h),
        () => this.ready(r, entry), // a hold that failed: admitted as if it had none
      );
    }
  }

  /** Whether the engine may admit r now: not while its prefix is being read, nor before a hold it must wait for. */
  admissible(r: RequestState): boolean {
    const e = this.entries.get(r);
    if (!e) return true;
    return e.stage === 'ready' || (e.stage === 'holding' && !e.mustWait);
  }

  /** The ticket to give r's admit entry (0: none). */
  ticketOf(r: RequestState): number {
    const e = this.entries.get(r);
    return e?.stage === 'ready' ? e.ticket : 0;
  }

  /** r was admitted: its ticket (if it carried one) was let go of with the admission. */
  admitted(r: RequestState): void {
    this.entries.delete(r);
  }

  /** r left the queue without being admitted (finished, cancelled): its hold goes with the next step. */
  left(r: RequestState): void {
    const e = this.entries.get(r);
    if (!e) return;
    if (e.ticket > 0) this.drops.push(e.ticket);
    this.entries.delete(r);
  }

  /** Tickets to let go of with the next step (again: after a step that failed). */
  dropLater(tickets: readonly number[]): void {
    this.drops.push(...tickets);
  }

  /** Tickets to let go of with the next step. */
  takeDrops(): number[] {
    return this.drops.splice(0);
  }

  hasDrops(): boolean {
    return this.drops.length > 0;
  }

  /** Resolves at the next change that may make a waiting request admissible (or a new arrival). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.wakers.push(resolve));
  }

  /** Wakes whoever waits in changed(). */
  poke(): void {
    for (const wake of this.wakers.splice(0)) wake();
  }

  private held(r: RequestState, entry: Entry, hold: Hold): void {
    if (this.entries.get(r) !== entry) {
      // admitted or gone before the hold came back
      if (hold.ticket > 0) this.drops.push(hold.ticket);
      this.poke();
      return;
    }
    entry.ticket = hold.ticket;
    const { restore } = restoreEstimate(hold, this.options.rates, this.options.restore);
    if (!restore) {
      this.ready(r, entry);
      return;
    }
    entry.stage = 'restoring';
    const matched = hold.tokens.device + hold.tokens.host + hold.tokens.disk;
    this.cache.fetch(hold.ticket, matched, true).then(
      (result) => {
        this.observer.onRestore?.(result);
        this.ready(r, entry);
      },
      () => this.ready(r, entry),
    );
  }

  private ready(r: RequestState, entry: Entry): void {
    if (this.entries.get(r) === entry) entry.stage = 'ready';
    this.poke();
  }
}
