// Which worker holds which chunk key, in which tier: the part of the index
// that longestPrefix reads. Per key, one KeyTable slot holds the first holder
// as a code (its serial and the depth of the tier it holds the key in), so a
// key held by one worker (most keys: a prefix is normally on one to a few
// workers) is one cache line to read; further holders are a list of codes
// the slot points to. Per holder, its keys with their tier, so a holder's
// entries can be dropped without scanning every key.
//
// Memory is bounded by maxEntries (key, holder) pairs. Past the bound, new
// pairs are not recorded (counted in `dropped`) until removals make room: the
// index then under-reports, so placement loses some affinity but never sends
// a request to a worker for a prefix that worker does not hold. A holder's
// resync from its snapshot recovers what was dropped, once there is room.
import { applyEventTo, type ResidentKeys } from '@chunkmesh/common';
import type { KvOp, KvTier } from '@chunkmesh/native';
import { type ChunkMatches, MatchSlots } from './chunk-matches.ts';
import { KeyTable, wordsOf } from './key-table.ts';

/** Anything entries can belong to. */
export interface Holder {
  readonly id: string;
  /** The holder's number, from holderSerial(): what the tables store and compare instead of the object. */
  readonly serial: number;
}

/** Serials fit in a code with the depth: serial << 2 | depth stays a positive int32. */
const MAX_SERIAL = 2 ** 28;
let lastSerial = 0;

/** A new holder number, unique for the life of the process. */
export function holderSerial(): number {
  if (lastSerial >= MAX_SERIAL) throw new RangeError(`more than ${MAX_SERIAL} holders made`);
  return ++lastSerial;
}

/**
 * Holders guessed to hold keys before their events confirm them (the router's Speculation),
 * counted as on the device: a placement puts the prefix there.
 */
export interface Guesses {
  /** The slot of keys[i]'s guesses, or -1 (words: wordsOf(keys)). */
  findAt(words: Int32Array, i: number): number;
  /** Whether the holder numbered serial has a guess at the slot that stands at `now`. */
  has(slot: number, serial: number, now: number): boolean;
  /** Appends the serials whose guesses at the slot stand at `now`. */
  standing(slot: number, now: number, out: number[]): void;
  holder(serial: number): Holder | undefined;
}

const DEPTH: Record<KvTier, number> = { device: 0, host: 1, disk: 2 };

/** Where code's holder is in list, or -1. */
function indexOfSerial(list: readonly number[], serial: number): number {
  for (let k = 0; k < list.length; k++) if ((list[k] as number) >> 2 === serial) return k;
  return -1;
}

/** Whether two keys' further holders are the same codes in the same order. */
function sameCodes(x: readonly number[] | undefined, y: readonly number[] | undefined): boolean {
  if (x === y) return true;
  if (x === undefined || y === undefined || x.length !== y.length) return false;
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
  return true;
}

export class ChunkTable {
  /** Per key: a = the first holder's code (serial << 2 | depth), b = 0 or 1 + the index in `more` of the others' codes. */
  private readonly keys = new KeyTable();
  private readonly more: number[][] = [];
  private readonly freeMore: number[] = [];
  private readonly byHolder = new Map<Holder, Map<bigint, KvTier>>();
  private readonly bySerial = new Map<number, Holder>();
  private size = 0;
  /** Entries by tier depth. */
  private readonly inTier = [0, 0, 0];
  private droppedCount = 0;
  // Scratch of one longestPrefix call, per still-matching holder: its serial, its chunks on the host
  // and disk so far, and the depth of the tier it held the last key walked in; and the serials
  // guessed for the first key.
  private readonly alive: number[] = [];
  private readonly host: number[] = [];
  private readonly disk: number[] = [];
  private readonly depths: number[] = [];
  private readonly guessed: number[] = [];
  private readonly matches = new MatchSlots();

  constructor(
    private readonly maxEntries: number,
    /** Whether longestPrefix may report the holder (the index reports only workers it places on). */
    private readonly reported: (holder: Holder) => boolean = () => true,
  ) {}

  /** One event of the holder, with the stream's semantics (applyEventTo, @chunkmesh/common redis-keys.ts). */
  apply(holder: Holder, event: { op: KvOp; tier: KvTier; from?: KvTier; keys: BigUint64Array }): void {
    const target: ResidentKeys = {
      place: (key, tier) => this.place(holder, key, tier),
      remove: (key, tier) => this.remove(holder, key, tier),
      clear: (tier) => {
        const gone: bigint[] = [];
        for (const [k, t] of this.byHolder.get(holder) ?? []) if (t === tier) gone.push(k);
        for (const k of gone) this.remove(holder, k, tier);
      },
    };
    applyEventTo(target, event);
  }

  /** Forgets every entry of the holder. */
  clear(holder: Holder): void {
    const own = this.byHolder.get(holder);
    if (!own) return;
    for (const [k, tier] of own) {
      this.unlink(holder.serial, k);
      (this.inTier[DEPTH[tier]] as number)--;
    }
    this.size -= own.size;
    this.byHolder.delete(holder);
    this.bySerial.delete(holder.serial);
  }

  /**
   * Holder id -> its match for holders of keys[0..n), n >= 1: n and how many of those n chunks are
   * in each tier; stops at the first key nobody holds. The answer is good until the next call. `guesses` are asked about the first key, and
   * about a later key only when some holder still matching is not a confirmed holder of it. Holders
   * the constructor's `reported` refuses are left out.
   */
  longestPrefix(keys: BigUint64Array, guesses?: Guesses, now = Date.now()): ChunkMatches {
    const matched = this.matches;
    matched.begin();
    if (keys.length === 0) return matched.answer();
    const words = wordsOf(keys);
    const { alive, host, disk, depths, more } = this;
    alive.length = host.length = disk.length = depths.length = 0;
    const first = this.keys.findAt(words, 0);
    let lastA = 0;
    let lastList: number[] | undefined;
    if (first >= 0) {
      lastA = this.keys.a(first);
      const b = this.keys.b(first);
      this.admit(lastA);
      if (b !== 0) {
        lastList = more[b - 1] as number[];
        for (const code of lastList) this.admit(code);
      }
    }
    // Whether every holder still matching was a confirmed holder of the last key walked.
    let confirmed = true;
    if (guesses) {
      const g = guesses.findAt(words, 0);
      if (g >= 0) {
        const guessed = this.guessed;
        guessed.length = 0;
        guesses.standing(g, now, guessed);
        for (const serial of guessed)
          if (!alive.includes(serial)) {
            this.admit(serial << 2);
            confirmed = false;
          }
      }
    }
    if (alive.length === 0) return matched.answer();
    this.keys.touch(words, 1, keys.length);
    // Keys after the last one walked whose holders (codes, so tiers too) are the same, every holder
    // still matching having been confirmed there: each repeats that step exactly, so they are
    // counted, not walked (a hot system prompt's keys are held alike by many workers).
    let run = 0;
    for (let i = 1; i < keys.length; i++) {
      const s = this.keys.findAt(words, i);
      const a = s >= 0 ? this.keys.a(s) : 0;
      const b = s >= 0 ? this.keys.b(s) : 0;
      const list = b !== 0 ? more[b - 1] : undefined;
      if (confirmed && a === lastA && a !== 0 && sameCodes(list, lastList)) {
        run++;
        continue;
      }
      if (run > 0) this.repeat(run);
      run = 0;
      lastA = a;
      lastList = list;
      confirmed = true;
      let g = -2; // the guesses' slot, once asked
      // A prefix's keys mostly list their holders in the same order (the order they stored them),
      // so the next holder is looked for where the previous one was found before searching.
      let at = 0;
      let kept = 0;
      for (let j = 0; j < alive.length; j++) {
        const serial = alive[j] as number;
        let depth = -1;
        if (a >> 2 === serial) depth = a & 3;
        else if (list !== undefined) {
          if ((list[at] as number) >> 2 !== serial) at = indexOfSerial(list, serial);
          if (at >= 0) depth = (list[at++] as number) & 3;
          else at = 0;
        }
        if (depth < 0 && guesses !== undefined) {
          if (g === -2) g = guesses.findAt(words, i);
          if (g >= 0 && guesses.has(g, serial, now)) {
            depth = 0;
            confirmed = false;
          }
        }
        if (depth < 0) {
          this.end(serial, i, host[j] as number, disk[j] as number, guesses);
          continue;
        }
        alive[kept] = serial;
        host[kept] = (host[j] as number) + (depth === 1 ? 1 : 0);
        disk[kept] = (disk[j] as number) + (depth === 2 ? 1 : 0);
        depths[kept] = depth;
        kept++;
      }
      alive.length = depths.length = kept;
      if (kept === 0) return matched.answer();
    }
    if (run > 0) this.repeat(run);
    for (let j = 0; j < alive.length; j++)
      this.end(alive[j] as number, keys.length, host[j] as number, disk[j] as number, guesses);
    return matched.answer();
  }

  /** The holder's keys with the tier each is in. */
  entriesOf(holder: Holder): ReadonlyMap<bigint, KvTier> {
    return this.byHolder.get(holder) ?? new Map();
  }

  get entries(): number {
    return this.size;
  }

  /** Entries whose chunk is in each tier. */
  entriesByTier(): Record<KvTier, number> {
    const [device = 0, host = 0, disk = 0] = this.inTier;
    return { device, host, disk };
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /** Starts a walk's holder from its code at the first key. */
  private admit(code: number): void {
    const depth = code & 3;
    this.alive.push(code >> 2);
    this.host.push(depth === 1 ? 1 : 0);
    this.disk.push(depth === 2 ? 1 : 0);
    this.depths.push(depth);
  }

  /** Counts `run` more keys for every holder still matching, each in the tier it held the last key walked in. */
  private repeat(run: number): void {
    const { alive, host, disk, depths } = this;
    for (let j = 0; j < alive.length; j++) {
      const depth = depths[j] as number;
      if (depth === 1) host[j] = (host[j] as number) + run;
      else if (depth === 2) disk[j] = (disk[j] as number) + run;
    }
  }

  /** Records a match of n chunks for the holder numbered serial. */
  private end(serial: number, n: number, onHost: number, onDisk: number, guesses: Guesses | undefined): void {
    const h = this.bySerial.get(serial) ?? guesses?.holder(serial);
    if (h && this.reported(h)) this.matches.record(h.id, n, onHost, onDisk);
  }

  /** The key is in `tier` of the holder, and in no other of its tiers. */
  private place(holder: Holder, key: bigint, tier: KvTier): void {
    let own = this.byHolder.get(holder);
    const was = own?.get(key);
    const code = (holder.serial << 2) | DEPTH[tier];
    if (own && was !== undefined) {
      (this.inTier[DEPTH[was]] as number)--;
      (this.inTier[DEPTH[tier]] as number)++;
      own.set(key, tier);
      const s = this.keys.find(key);
      if (this.keys.a(s) >> 2 === holder.serial) this.keys.setA(s, code);
      else {
        const list = this.more[this.keys.b(s) - 1] as number[];
        list[indexOfSerial(list, holder.serial)] = code;
      }
      return;
    }
    if (this.size >= this.maxEntries) {
      this.droppedCount++;
      return;
    }
    if (!own) {
      own = new Map();
      this.byHolder.set(holder, own);
      this.bySerial.set(holder.serial, holder);
    }
    own.set(key, tier);
    this.size++;
    (this.inTier[DEPTH[tier]] as number)++;
    const s = this.keys.insert(key);
    const a = this.keys.a(s);
    if (a === 0) this.keys.setA(s, code);
    else {
      const b = this.keys.b(s);
      if (b !== 0) (this.more[b - 1] as number[]).push(code);
      else {
        const m = this.freeMore.pop() ?? this.more.length;
        this.more[m] = [code];
        this.keys.setB(s, m + 1);
      }
    }
  }

  private remove(holder: Holder, key: bigint, tier: KvTier): void {
    const own = this.byHolder.get(holder);
    if (own?.get(key) !== tier) return;
    own.delete(key);
    this.size--;
    (this.inTier[DEPTH[tier]] as number)--;
    this.unlink(holder.serial, key);
  }

  /** Takes the holder off the key's holders, keeping the others' order. */
  private unlink(serial: number, key: bigint): void {
    const s = this.keys.find(key);
    if (s < 0) return;
    const b = this.keys.b(s);
    const list = b !== 0 ? (this.more[b - 1] as number[]) : undefined;
    if (this.keys.a(s) >> 2 === serial) {
      if (list === undefined) {
        this.keys.deleteSlot(s);
        return;
      }
      this.keys.setA(s, list.shift() as number);
    } else if (list !== undefined) {
      const k = indexOfSerial(list, serial);
      if (k < 0) return;
      list.splice(k, 1);
    } else return;
    if (list.length === 0) {
      this.keys.setB(s, 0);
      this.freeMore.push(b - 1);
    }
  }
}
