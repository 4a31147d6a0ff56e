// The Segmenter (tokenizer.ts) of a Hugging Face tokenizer. Its encode() first
// splits the text at the added tokens matched before normalisation (leftmost,
// longest first: chat markers such as <|im_start|>), then normalises,
// pre-tokenises and merges each section on its own, so the pieces between
// those tokens tokenise independently of each other; a cache may then
// tokenise each piece once. Two settings break that independence, and with
// either there is no segmenter: an added token that strips the whitespace
// beside it (lstrip / rstrip changes its neighbours), and a Metaspace
// pre-tokenizer that prepends its marker to the text's first section only
// (prepend_scheme "first": a piece's tokens then depend on where it stands).
import type { Segmenter, WordSplitter } from './tokenizer.ts';

type Json = Record<string, unknown>;

interface AddedToken {
  id: number;
  content: string;
}

/** Whether any Metaspace in this part of tokenizer.json prepends to the first section only. */
function prependsFirstOnly(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(prependsFirstOnly);
  if (typeof node !== 'object' || node === null) return false;
  const o = node as Json;
  if (o.type === 'Metaspace' && o.prepend_scheme === 'first') return true;
  return Object.values(o).some(prependsFirstOnly);
}

/** Whether an added token is matched in the normalised text (where a normalizer runs first). */
export function matchedNormalized(token: Json): boolean {
  // As @huggingface/tokenizers decides (AddedToken: normalized defaults to !special).
  return typeof token.normalized === 'boolean' ? token.normalized : token.special !== true;
}

/** The added tokens split on before normalisation, or null when one of them strips whitespace. */
function splittingTokens(tokenizerJson: Json): AddedToken[] | null {
  const hasNormalizer = tokenizerJson.normalizer != null;
  const out: AddedToken[] = [];
  for (const raw of (tokenizerJson.added_tokens ?? []) as Json[]) {
    if (matchedNormalized(raw) && hasNormalizer) continue;
    if (raw.lstrip === true || raw.rstrip === true) return null;
    if (typeof raw.content !== 'string' || raw.content === '' || typeof raw.id !== 'number') continue;
    out.push({ id: raw.id, content: raw.content });
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The segmenter of a tokenizer built from `tokenizerJson`, or undefined when its pieces are not
 * independent. around(addSpecialTokens): the ids encode() puts before and after the text, null
 * when its post-processor adds them. words: how its pieces split further (hf-words.ts), if they do.
 */
export function hfSegmenter(
  tokenizerJson: Json,
  encodePiece: (piece: string) => number[],
  around: (addSpecialTokens: boolean) => { before: number[]; after: number[] } | null,
  words?: WordSplitter,
): Segmenter | undefined {
  const tokens = splittingTokens(tokenizerJson);
  if (tokens === null || tokens.length === 0 || prependsFirstOnly(tokenizerJson.pre_tokenizer))
    return undefined;
  const idOf = new Map(tokens.map((t) => [t.content, t.id]));
  // Longest first: at each position the alternation then takes the longest token, as the
  // tokenizer's trie does. No `u` flag: both match UTF-16 code units.
  const source = [...idOf.keys()]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|');
  // compiled once; split() is synchronous, so resetting lastIndex makes it safe to share
  const pattern = new RegExp(source, 'g');
  return {
    split(text, addSpecialTokens) {
      const ids = around(addSpecialTokens);
      if (ids === null) return null;
      const parts: (string | number)[] = [];
      pattern.lastIndex = 0;
      let from = 0;
      for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
        if (m.index > from) parts.push(text.slice(from, m.index));
        parts.push(idOf.get(m[0]) as number);
        from = m.index + m[0].length;
      }
      if (from < text.length) parts.push(text.slice(from));
      return { parts, ...ids };
    },
    encodePiece,
    ...(words ? { words } : {}),
  };
}
