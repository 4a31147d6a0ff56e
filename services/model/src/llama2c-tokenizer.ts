// llama2.c tokenizers (tokenizer.bin, tok512.bin...): int32 max_token_length,
// then per token a float32 score, an int32 byte length and the bytes. Encoding
// follows run.c: optional BOS, a " " dummy prefix (SentencePiece's
// add_dummy_prefix), each UTF-8 character looked up or spelled as byte tokens
// <0xNN> (id byte + 3), then the best-scoring adjacent pair merged until no
// pair is in the vocabulary.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Tokenizer } from './tokenizer.ts';

const BOS = 1;
const EOS = 2;
const BYTE_BASE = 3;
const SPACE = 0x20;
// run.c starts the best-score search here, so pieces scored lower never merge
const NO_SCORE = -1e10;

/** Bytes as a string of char codes 0..255: a Map key that also works for pieces that are not valid UTF-8. */
function binary(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

export class Llama2cTokenizer implements Tokenizer {
  readonly bosTokenId = BOS;
  readonly eosTokenIds = [EOS];
  readonly cleansUpSpaces = false;
  readonly vocabSize: number;
  private readonly ids = new Map<string, number>();
  /** binary() of each piece, computed once: merging looks pairs up by concatenating these. */
  private readonly keys: string[];
  /** The byte a <0xNN> token stands for, or -1. */
  private readonly byteValue: Int16Array;
  private readonly spaceId: number;

  constructor(
    readonly id: string,
    private readonly pieces: Uint8Array[],
    private readonly scores: Float32Array,
    source: string,
  ) {
    this.vocabSize = pieces.length;
    this.byteValue = new Int16Array(pieces.length).fill(-1);
    this.keys = pieces.map(binary);
    pieces.forEach((_, i) => {
      const key = this.keys[i] as string;
      // first id wins on duplicates, as run.c's sorted lookup would find either
      if (!this.ids.has(key)) this.ids.set(key, i);
      const m = /^<0x([0-9A-F]{2})>$/.exec(key);
      if (m) this.byteValue[i] = Number.parseInt(m[1] as string, 16);
    });
    for (let b = 0; b < 256; b++) {
      if (this.byteValue[b + BYTE_BASE] !== b) {
        throw new Error(`${source}: token ${b + BYTE_BASE} should be the byte token <0x${hex(b)}>`);
      }
    }
    const space = this.ids.get(' ');
    if (space === undefined) throw new Error(`${source}: no " " token for the dummy prefix`);
    this.spaceId = space;
  }

  /** addSpecialTokens: BOS first, as llama2.c's run.c encodes a prompt. */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    const bytes = new TextEncoder().encode(text);
    const tokens: number[] = [];
    if (bytes.length > 0) tokens.push(this.spaceId);
    // one UTF-8 character at a time (at most 4 bytes, as run.c groups them)
    for (let i = 0; i < bytes.length; ) {
      let end = i + 1;
      while (end < bytes.length && end - i < 4 && ((bytes[end] as number) & 0xc0) === 0x80) end++;
      const char = bytes.subarray(i, end);
      const id = this.ids.get(binary(char));
      if (id !== undefined) tokens.push(id);
      else for (const b of char) tokens.push(b + BYTE_BASE);
      i = end;
    }
    this.merge(tokens);
    return opts.addSpecialTokens ? [BOS, ...tokens] : tokens;
  }

  decode(ids: number[]): string {
    const out: number[] = [];
    let prev = -1;
    for (const id of ids) {
      const piece = this.pieces[id];
      if (piece === undefined)
        throw new RangeError(`token ${id} is outside the vocabulary [0, ${this.vocabSize})`);
      const byte = this.byteValue[id] as number;
      if (byte >= 0) {
        out.push(byte);
      } else if (id !== BOS && id !== EOS) {
        // SentencePiece's dummy prefix: the first piece after BOS reads without its space
        const from = prev === BOS && piece[0] === SPACE ? 1 : 0;
        for (let i = from; i < piece.length; i++) out.push(piece[i] as number);
      }
      prev = id;
    }
    return new TextDecoder().decode(Uint8Array.from(out));
  }

  tokenBytes(id: number): Uint8Array {
    const byte = this.byteValue[id] as number;
    return byte >= 0 ? Uint8Array.of(byte) : this.piece(id);
  }

  /** run.c's control tokens: <unk>, BOS, EOS. */
  isSpecial(id: number): boolean {
    this.piece(id);
    return id < BYTE_BASE;
  }

  /** The raw bytes of a token. */
  piece(id: number): Uint8Array {
    const piece = this.pieces[id];
    if (piece === undefined)
      throw new RangeError(`token ${id} is outside the vocabulary [0, ${this.vocabSize})`);
    return piece;
  }

  /**
   * Greedy BPE as in run.c: repeatedly merge the best-scoring pair, the leftmost on ties. run.c
   * rescans the whole sequence per merge (quadratic: 0.2 s for 8K tokens); here candidate pairs
   * wait in a heap ordered by (score, position) over a linked list of pieces, and entries made
   * stale by a neighbouring merge are skipped when they surface. Same merges, same order.
   */
  private merge(tokens: number[]): void {
    const n = tokens.length;
    if (n < 2) return;
    const tok = Int32Array.from(tokens);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    // bumped whenever a node's token changes or it is merged away: heap entries remember it
    const version = new Uint32Array(n);
    const heap = new PairHeap();
    const offer = (left: number) => {
      const right = next[left] as number;
      if (right < 0) return;
      const id = this.ids.get(
        (this.keys[tok[left] as number] as string) + (this.keys[tok[right] as number] as string),
      );
      if (id === undefined || !((this.scores[id] as number) > NO_SCORE)) return;
      heap.push(
        this.scores[id] as number,
        left,
        right,
        version[left] as number,
        version[right] as number,
        id,
      );
    };
    for (let i = 0; i + 1 < n; i++) offer(i);
    while (heap.size > 0) {
      const e = heap.pop();
      if (next[e.left] !== e.right || version[e.left] !== e.vLeft || version[e.right] !== e.vRight) continue;
      tok[e.left] = e.id;
      version[e.left] = (version[e.left] as number) + 1;
      version[e.right] = (version[e.right] as number) + 1;
      const after = next[e.right] as number;
      next[e.left] = after;
      if (after >= 0) prev[after] = e.left;
      if ((prev[e.left] as number) >= 0) offer(prev[e.left] as number);
      offer(e.left);
    }
    tokens.length = 0;
    for (let i = 0; i >= 0; i = next[i] as number) tokens.push(tok[i] as number);
  }
}

/** Max-heap of candidate merges: higher score first, then the leftmost (lower original position). */
class PairHeap {
  private readonly entries: {
    score: number;
    left: number;
    right: number;
    vLeft: number;
    vRight: number;
    id: number;
  }[] = [];

  get size(): number {
    return this.entries.length;
  }

  push(score: number, left: number, right: number, vLeft: number, vRight: number, id: number): void {
    const h = this.entries;
    h.push({ score, left, right, vLeft, vRight, id });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      [h[i], h[p]] = [h[p] as (typeof h)[number], h[i] as (typeof h)[number]];
      i = p;
    }
  }

  pop(): { score: number; left: number; right: number; vLeft: number; vRight: number; id: number } {
    const h = this.entries;
    const top = h[0] as (typeof h)[number];
    const last = h.pop() as (typeof h)[number];
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(l, m)) m = l;
        if (r < h.length && this.before(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as (typeof h)[number], h[i] as (typeof h)[number]];
        i = m;
      }
    }
    return top;
  }

  private before(a: number, b: number): boolean {
    const x = this.entries[a] as { score: number; left: number };
    const y = this.entries[b] as { score: number; left: number };
    return x.score > y.score || (x.score === y.score && x.left < y.left);
  }
}

function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

/** The tokenizer in a llama2.c tokenizer file's bytes; vocabSize, when given, must match its entry count. */
export function parseLlama2cTokenizer(
  bytes: Uint8Array,
  id: string,
  vocabSize?: number,
  source = id,
): Llama2cTokenizer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4)
    throw new Error(`${source}: too short for a llama2.c tokenizer (${bytes.length} bytes)`);
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength < 1 || maxTokenLength > 1024) {
    throw new Error(`${source}: max_token_length ${maxTokenLength} is not plausible (1..1024)`);
  }
  const pieces: Uint8Array[] = [];
  const scores: number[] = [];
  let at = 4;
  while (at < bytes.length && (vocabSize === undefined || pieces.length < vocabSize)) {
    if (at + 8 > bytes.length)
      throw new Error(`${source}: truncated entry for token ${pieces.length} at byte ${at}`);
    const score = view.getFloat32(at, true);
    const length = view.getInt32(at + 4, true);
    at += 8;
    if (length < 0 || length > maxTokenLength || at + length > bytes.length) {
      throw new Error(
        `${source}: token ${pieces.length} has length ${length} (max ${maxTokenLength}, ${bytes.length - at} bytes left)`,
      );
    }
    pieces.push(bytes.slice(at, at + length));
    scores.push(score);
    at += length;
  }
  if (vocabSize !== undefined && (pieces.length !== vocabSize || at !== bytes.length)) {
    throw new Error(
      `${source}: expected ${vocabSize} tokens filling the file, read ${pieces.length} ending at byte ${at} of ${bytes.length}`,
    );
  }
  if (pieces.length < BYTE_BASE + 256) {
    throw new Error(
      `${source}: ${pieces.length} tokens cannot hold the control and byte tokens (${BYTE_BASE + 256})`,
    );
  }
  return new Llama2cTokenizer(id, pieces, Float32Array.from(scores), source);
}

/** Loads a llama2.c tokenizer file; its id is the file name without extension (tok512.bin -> tok512). */
export async function loadLlama2cTokenizer(path: string, vocabSize?: number): Promise<Llama2cTokenizer> {
  return parseLlama2cTokenizer(await readFile(path), basename(path, extname(path)), vocabSize, path);
}
