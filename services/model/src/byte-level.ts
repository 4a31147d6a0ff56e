// GPT-2's bytes_to_unicode: the alphabet byte-level BPE vocabularies write
// bytes in (printable Latin-1 bytes stand for themselves, the others map to
// code points from 256 up). tokenizer.json files use it; so does XGrammar's
// BYTE_LEVEL vocabulary type.

/** Byte -> the character that stands for it. */
export const BYTE_LEVEL_CHARS: readonly string[] = (() => {
  const chars: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars.push(String.fromCodePoint(printable ? b : next++));
  }
  return chars;
})();
