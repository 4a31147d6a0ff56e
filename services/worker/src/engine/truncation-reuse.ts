// Truncation reuse: a conversation that outgrew the context window comes
// back with its oldest turns dropped after a common head (BOS, system
// prompt). Chunk keys chain over the prefix, so the remaining turns' chunks
// have new keys and new positions and no prefix match finds them. This class
// owns the record of recent conversations (their token sequences, bounded in
// tokens) and finds, for a new prompt, a recorded conversation it continues
// at an offset: the graft the native cache then runs at the start of the
// admitting step (KvCache::graft: K rotated to the new positions). Only whole
// chunks are made; the tail recomputes. With tiers below the device, the
// recorded conversation's cached prefix is held and, when part of it is on
// disk, read back before the request is admitted. What the grafted KV is and
// is not exact about: docs/ARCHITECTURE.md, Tiers, truncation.
//
// One owner: the engine calls every method on the JavaScript thread; the hold
// and fetch promises settle there too.
import type { Graft, KvCache } from '@chunkmesh/native';
import type { RequestState } from './request-state.ts';

/** Tokens of a prompt that must match after the head before a recorded conversation is taken for it. */
const ANCHOR_TOKENS = 8;

interface Recorded {
  salt: string;
  tokens: readonly number[];
}

interface Entry {
  graft: Graft & { salt: string };
  /** holding: the source's hold (and disk read) is not back yet; the request waits. */
  stage: 'holding' | 'ready';
  ticket: number;
}

export interface TruncationReuseOptions {
  /** Tokens of recent conversations remembered at most. */
  maxTokens: number;
  chunkTokens: number;
  /** Hold the source prefix (and read its disk chunks back) before admitting: set with tiers below the device. */
  tiered: boolean;
  /** Something changed that may make a waiting request admissible. */
  wake(): void;
  /** Lets go of a hold's ticket with the next step (the look-ahead's queue of drops: tiered only). */
  drop(ticket: number): void;
}

/** The longest whole-chunk continuation of prompt in one recorded conversation, as a graft. */
export function findGraft(
  prompt: readonly number[],
  recorded: readonly number[],
  chunkTokens: number,
): { head: number; drop: number; end: number } | undefined {
  // the last prompt token is always computed (its logits start the completion)
  const limit = prompt.length - 1;
  let head = 0;
  while (head < limit && head < recorded.length && prompt[head] === recorded[head]) head++;
  if (limit - head < ANCHOR_TOKENS) return undefined;
  let best: { head: number; drop: number; end: number } | undefined;
  for (let at = head + 1; at + ANCHOR_TOKENS <= recorded.length; at++) {
    let n = 0;
    while (head + n < limit && at + n < recorded.length && prompt[head + n] === recorded[at + n]) n++;
    if (n < ANCHOR_TOKENS) continue;
    const end = Math.floor((head + n) / chunkTokens) * chunkTokens;
    if (end > Math.floor(head / chunkTokens) * chunkTokens && (!best || end > best.end)) {
      best = { head, drop: at - head, end };
    }
    // none can go further than the prompt's end (this also keeps repetitive prompts from scanning on)
    if (head + n >= limit) break;
  }
  return best;
}

export class TruncationReuse {
  /** Oldest first. */
  private readonly record: Recorded[] = [];
  private recordedTokens = 0;
  private readonly entries = new Map<RequestState, Entry>();

  constructor(
    private readonly cache: KvCache,
    private readonly options: TruncationReuseOptions,
  ) {}

  /** A finished conversation (prompt and output): remembered, dropping those it extends and the oldest over the bound. */
  remember(salt: string, tokens: readonly number[]): void {
    if (tokens.length > this.options.maxTokens) return;
    for (let i = this.record.length - 1; i >= 0; i--) {
      const r = this.record[i] as Recorded;
      if (r.salt === salt && r.tokens.length <= tokens.length && r.tokens.every((t, j) => t === tokens[j])) {
        this.recordedTokens -= r.tokens.length;
        this.record.splice(i, 1);
      }
    }
    this.record.push({ salt, tokens });
    this.recordedTokens += tokens.length;
    while (this.recordedTokens > this.options.maxTokens) {
      this.recordedTokens -= (this.record.shift() as Recorded).tokens.length;
    }
  }

  /** A new request: finds the conversation it continues after a truncation, if any, and prepares its graft. */
  arrived(r: RequestState, salt: string): void {
    const prompt = r.context;
    const c = this.options.chunkTokens;
    let best: { found: NonNullable<ReturnType<typeof findGraft>>; tokens: readonly number[] } | undefined;
    for (let i = this.record.length - 1; i >= 0; i--) {
      const rec = this.record[i] as Recorded;
      if (rec.salt !== salt) continue;
      const found = findGraft(prompt, rec.tokens, c);
      if (found && (!best || found.end > best.found.end)) best = { found, tokens: rec.tokens };
    }
    if (!best) return;
    const { head, drop, end } = best.found;
    // the source's chunks that hold rows [0, end + drop), whole
    const sourceEnd = Math.min(best.tokens.length, Math.ceil((end + drop) / c) * c);
    const graft = {
      salt,
      source: best.tokens.slice(0, sourceEnd),
      target: prompt.slice(0, end),
      head,
      drop,
    };
    const entry: Entry = { graft, stage: this.options.tiered ? 'holding' : 'ready', ticket: 0 };
    this.entries.set(r, entry);
    if (this.options.tiered) this.holdSource(r, entry);
  }

  /** Whether r may be admitted now: not while its source's hold or disk read is out. */
  admissible(r: RequestState): boolean {
    return this.entries.get(r)?.stage !== 'holding';
  }

  /** r's graft for the step that admits it (once), and the hold to let go of with that step (0: none). */
  take(r: RequestState): { graft: Graft; ticket: number } | undefined {
    const e = this.entries.get(r);
    if (e?.stage !== 'ready') return undefined;
    this.entries.delete(r);
    return { graft: e.graft, ticket: e.ticket };
  }

  /** r left before being admitted: its hold goes with the next step. */
  left(r: RequestState): void {
    const e = this.entries.get(r);
    if (!e) return;
    if (e.ticket > 0) this.options.drop(e.ticket);
    this.entries.delete(r);
  }

  private holdSource(r: RequestState, entry: Entry): void {
    const { salt, source } = entry.graft;
    const ready = () => {
      entry.stage = 'ready';
      this.options.wake();
    };
    const gone = () => this.entries.get(r) !== entry;
    this.cache.hold(source, { salt, maxMatchTokens: source.length }).then(
      (h) => {
        if (gone()) {
          if (h.ticket > 0) this.options.drop(h.ticket);
          this.options.wake();
          return;
        }
        entry.ticket = h.ticket;
        if (h.tokens.disk === 0) return ready();
        this.cache.fetch(h.ticket, source.length, true).then(ready, ready);
      },
      ready, // a hold that failed: grafted from what the device and host have
    );
  }
}
