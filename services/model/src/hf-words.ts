// The WordSplitter (tokenizer.ts) of a Hugging Face tokenizer: within a piece
// (text between added tokens) @huggingface/tokenizers normalises, splits the
// text with its pre-tokenizer's regex into words, maps each word's bytes and
// runs BPE on each word alone, so a piece's ids are its words' ids one after
// another. A cache of words then tokenises a new message mostly by lookups
// (most of its words were seen before). The split is the library's own (its
// ByteLevel pattern, its Split pre-tokenizer), so it cannot drift from what
// encode() does. Only the shapes where that holds get a splitter:
//   - a BPE model;
//   - no normalizer, or NFC (idempotent: a word of a normalised piece stays
//     itself), and then no added token matched after normalisation (it would
//     split inside a piece);
//   - pre-tokenizer ByteLevel with its regex (GPT-2), or a Sequence of a
//     Split (Regex, Isolated, not inverted) and a ByteLevel without regex
//     (Llama 3, Qwen, Mistral Nemo), neither adding a prefix space (it would
//     go before the piece, not before each word);
//   - tokenizer_config without remove_space or do_lowercase_and_remove_accent.
// A word whose own split is not itself (a regex whose match depends on what
// follows) gets no ids: its piece is encoded whole.
import * as tokenizers from '@huggingface/tokenizers';
import { matchedNormalized } from './hf-segmenter.ts';
import type { WordSplitter } from './tokenizer.ts';

type Json = Record<string, unknown>;

// The package's type declarations do not resolve under NodeNext (their relative imports have no
// extensions): the two pre-tokenizers as used here.
const { ByteLevelPreTokenizer, SplitPreTokenizer } = tokenizers as unknown as {
  ByteLevelPreTokenizer: new (config: Json) => { pattern: RegExp };
  SplitPreTokenizer: new (config: Json) => { pre_tokenize_text(text: string): string[] };
};

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The normalisation applied to a piece before its split, or null when unsupported. */
function normalization(tokenizerJson: Json): ((text: string) => string) | null {
  const normalizer = tokenizerJson.normalizer;
  if (normalizer == null) return (text) => text;
  if (!isObject(normalizer) || normalizer.type !== 'NFC') return null;
  if (((tokenizerJson.added_tokens ?? []) as Json[]).some(matchedNormalized)) return null;
  return (text) => text.normalize('NFC');
}

/** The library's split of an already normalised piece into words, or null when unsupported. */
function wordSplit(preTokenizer: unknown): ((text: string) => string[]) | null {
  if (!isObject(preTokenizer)) return null;
  if (preTokenizer.type === 'ByteLevel') {
    if (preTokenizer.use_regex === false || preTokenizer.add_prefix_space === true) return null;
    const pattern = new ByteLevelPreTokenizer(preTokenizer).pattern;
    return (text) => text.match(pattern) ?? [];
  }
  const steps = preTokenizer.pretokenizers;
  if (preTokenizer.type !== 'Sequence' || !Array.isArray(steps) || steps.length !== 2) return null;
  const [split, bytes] = steps as unknown[];
  if (!isObject(split) || !isObject(bytes)) return null;
  const splitOk =
    split.type === 'Split' &&
    isObject(split.pattern) &&
    typeof split.pattern.Regex === 'string' &&
    split.behavior === 'Isolated' &&
    split.invert === false;
  const bytesOk = bytes.type === 'ByteLevel' && bytes.use_regex === false && bytes.add_prefix_space !== true;
  if (!splitOk || !bytesOk) return null;
  const splitter = new SplitPreTokenizer(split);
  return (text) => splitter.pre_tokenize_text(text);
}

/**
 * The word splitter of a tokenizer built from `tokenizerJson` and `config` (tokenizer_config.json),
 * or undefined when its words are not known to be independent. encode(word): the word's ids as
 * encode() makes them without special tokens.
 */
export function hfWordSplitter(
  tokenizerJson: Json,
  config: Json,
  encode: (word: string) => number[],
): WordSplitter | undefined {
  if (config.remove_space === true || config.do_lowercase_and_remove_accent === true) return undefined;
  if (!isObject(tokenizerJson.model) || tokenizerJson.model.type !== 'BPE') return undefined;
  const normalize = normalization(tokenizerJson);
  const split = wordSplit(tokenizerJson.pre_tokenizer);
  if (normalize === null || split === null) return undefined;
  const words = (piece: string) => split(normalize(piece));
  return {
    split: words,
    encodeWord(word) {
      const alone = words(word);
      return alone.length === 1 && alone[0] === word ? encode(word) : null;
    },
  };
}
