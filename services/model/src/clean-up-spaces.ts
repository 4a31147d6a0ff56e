// transformers' clean_up_tokenization (tokenizer_config.json
// `clean_up_tokenization_spaces`): the spaces a WordPiece tokenizer puts before
// punctuation and English contractions, removed from decoded text. The same
// replacements, in the same order, as transformers and @huggingface/tokenizers.
const RULES: readonly (readonly [string, string])[] = [
  [' .', '.'],
  [' ?', '?'],
  [' !', '!'],
  [' ,', ','],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];

export function cleanUpSpaces(text: string): string {
  let out = text;
  for (const [from, to] of RULES) out = out.replaceAll(from, to);
  return out;
}

/**
 * One rule's replaceAll over text that arrives in pieces: occurrences are replaced left to right
 * as in the whole text, and the longest tail that could still begin one is held back.
 */
class StreamingReplace {
  private pending = '';

  constructor(
    private readonly from: string,
    private readonly to: string,
  ) {}

  push(text: string): string {
    let out = '';
    this.pending += text;
    for (let at = this.pending.indexOf(this.from); at >= 0; at = this.pending.indexOf(this.from)) {
      out += this.pending.slice(0, at) + this.to;
      this.pending = this.pending.slice(at + this.from.length);
    }
    let keep = Math.min(this.from.length - 1, this.pending.length);
    while (keep > 0 && !this.from.startsWith(this.pending.slice(-keep))) keep--;
    const cut = this.pending.length - keep;
    out += this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    return out;
  }

  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }
}

/**
 * Clean-up of text that arrives in pieces: each rule streams into the next, so the outputs
 * concatenate to cleanUpSpaces of the pieces' concatenation, and text is held back only while a
 * rule could still match it (a trailing " ", " n'", " 'v"...).
 */
export class SpaceCleaner {
  private readonly stages = RULES.map(([from, to]) => new StreamingReplace(from, to));

  push(text: string): string {
    return this.stages.reduce((piece, stage) => stage.push(piece), text);
  }

  flush(): string {
    return this.stages.reduce((piece, stage) => stage.push(piece) + stage.flush(), '');
  }
}
