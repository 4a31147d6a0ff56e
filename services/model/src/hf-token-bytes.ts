// The bytes each token of a Hugging Face tokenizer.json stands for, read from
// its vocabulary by the decoder it declares: byte-level BPE (GPT-2's
// bytes-to-unicode alphabet: Llama 3, Qwen, Mistral Nemo), SentencePiece-style
// (▁ for a space, <0xNN> byte-fallback tokens: Llama 2, Mistral 7B), or plain
// text. Grammar masks match these bytes; logprobs report them.

import { BYTE_LEVEL_CHARS } from './byte-level.ts';

type Json = Record<string, unknown>;

/** Code point of a byte-level character -> its byte. */
function byteLevelAlphabet(): Map<number, number> {
  return new Map(BYTE_LEVEL_CHARS.map((ch, b) => [ch.codePointAt(0) as number, b]));
}

type Scheme = 'byte-level' | 'sentencepiece' | 'text';

/** The scheme a decoder (or a Sequence of decoders) declares. */
function schemeOf(decoder: Json | null | undefined): Scheme {
  if (!decoder) return 'text';
  const parts = decoder.type === 'Sequence' ? ((decoder.decoders as Json[] | undefined) ?? []) : [decoder];
  const types = new Set(parts.map((d) => d.type));
  if (types.has('ByteLevel')) return 'byte-level';
  if (types.has('ByteFallback') || types.has('Metaspace')) return 'sentencepiece';
  const replacesSpace = parts.some((d) => d.type === 'Replace' && JSON.stringify(d.pattern).includes('▁'));
  return replacesSpace ? 'sentencepiece' : 'text';
}

export class HfTokenBytes {
  private readonly bytes: Uint8Array[];
  private readonly special: Uint8Array;

  /** tokenizer.json as parsed; vocabSize covers every id the tokenizer has (gaps read as empty). */
  constructor(tokenizerJson: Json, vocabSize: number) {
    const model = (tokenizerJson.model ?? {}) as Json;
    const vocab = (model.vocab ?? {}) as Record<string, number> | [string, number][];
    const scheme = schemeOf(tokenizerJson.decoder as Json | null | undefined);
    const encoder = new TextEncoder();
    const alphabet = scheme === 'byte-level' ? byteLevelAlphabet() : undefined;
    const decodePiece = (piece: string): Uint8Array => {
      if (alphabet) {
        const out: number[] = [];
        for (const ch of piece) {
          const b = alphabet.get(ch.codePointAt(0) as number);
          // not in the alphabet (a malformed vocabulary): its UTF-8, as the decoder would pass it
          if (b === undefined) out.push(...encoder.encode(ch));
          else out.push(b);
        }
        return Uint8Array.from(out);
      }
      if (scheme === 'sentencepiece') {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
        if (m) return Uint8Array.of(Number.parseInt(m[1] as string, 16));
        return encoder.encode(piece.replaceAll('▁', ' '));
      }
      return encoder.encode(piece);
    };
    this.bytes = Array.from({ length: vocabSize }, () => new Uint8Array(0));
    this.special = new Uint8Array(vocabSize);
    // Unigram vocabularies are [piece, score] lists; BPE and WordPiece ones are piece -> id maps
    const pieces: [string, number][] = Array.isArray(vocab)
      ? vocab.map(([piece], id) => [piece, id])
      : Object.entries(vocab);
    for (const [piece, id] of pieces) if (id < vocabSize) this.bytes[id] = decodePiece(piece);
    // added tokens are literal text (special ones are control tokens)
    for (const t of (tokenizerJson.added_tokens ?? []) as Json[]) {
      const id = t.id as number;
      if (id >= vocabSize || typeof t.content !== 'string') continue;
      this.bytes[id] = encoder.encode(t.content);
      if (t.special === true) this.special[id] = 1;
    }
  }

  tokenBytes(id: number): Uint8Array {
    const b = this.bytes[id];
    if (b === undefined)
      throw new RangeError(`token ${id} is outside the vocabulary [0, ${this.bytes.length})`);
    return b;
  }

  isSpecial(id: number): boolean {
    this.tokenBytes(id);
    return this.special[id] === 1;
  }
}
