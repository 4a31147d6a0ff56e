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
  readonly vocabSize: number;
  private readonly ids = new Map<string, number>();
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
    pieces.forEach((piece, i) => {
      const key = binary(piece);
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

  encode(text: string, opts: { addBos?: boolean } = {}): number[] {
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
    return opts.addBos ? [BOS, ...tokens] : tokens;
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

  /** The raw bytes of a token. */
  piece(id: number): Uint8Array {
    const piece = this.pieces[id];
    if (piece === undefined)
      throw new RangeError(`token ${id} is outside the vocabulary [0, ${this.vocabSize})`);
    return piece;
  }

  /** Greedy BPE as in run.c: repeatedly merge the best-scoring pair, the leftmost on ties. */
  private merge(tokens: number[]): void {
    const pairOf = (i: number) =>
      this.ids.get(
        binary(this.pieces[tokens[i] as number] as Uint8Array) +
          binary(this.pieces[tokens[i + 1] as number] as Uint8Array),
      ) ?? -1;
    // pair[i]: the token tokens[i] and tokens[i + 1] merge into, or -1
    const pair: number[] = [];
    for (let i = 0; i + 1 < tokens.length; i++) pair.push(pairOf(i));
    for (;;) {
      let best = NO_SCORE;
      let at = -1;
      for (let i = 0; i < pair.length; i++) {
        const id = pair[i] as number;
        if (id >= 0 && (this.scores[id] as number) > best) {
          best = this.scores[id] as number;
          at = i;
        }
      }
      if (at < 0) return;
      tokens.splice(at, 2, pair[at] as number);
      pair.splice(at, 1);
      if (at < pair.length) pair[at] = pairOf(at);
      if (at > 0) pair[at - 1] = pairOf(at - 1);
    }
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
