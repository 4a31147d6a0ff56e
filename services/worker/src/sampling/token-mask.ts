// Applies a token bitmask (bit i of word i >> 5 set: token i allowed, as
// XGrammar writes it) to a row of logits. Which way is cheaper depends on the
// mask: when few tokens are allowed, start from all -Infinity and copy those
// over; when most are, knock out the disallowed ones. Either way only set
// bits are visited, so a 128K vocabulary costs tens of microseconds.

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function allowedCount(mask: Int32Array, vocab: number): number {
  let n = 0;
  for (let w = 0; w < mask.length; w++) n += popcount(mask[w] as number);
  // bits past the vocabulary (the last word's padding) never count
  const tail = vocab & 31;
  if (tail !== 0 && mask.length === Math.ceil(vocab / 32))
    n -= popcount((mask[mask.length - 1] as number) >>> tail);
  return n;
}

/** Sets every logit whose bit is clear to -Infinity; `scratch` is a buffer of the row's size. */
export function applyTokenMask(logits: Float32Array, mask: Int32Array, scratch: Float32Array): void {
  const vocab = logits.length;
  if (allowedCount(mask, vocab) * 2 < vocab) {
    scratch.fill(-Infinity);
    for (let w = 0; w < mask.length; w++) {
      let word = mask[w] as number;
      const base = w << 5;
      while (word !== 0) {
        const low = word & -word;
        const i = base + 31 - Math.clz32(low);
        if (i < vocab) scratch[i] = logits[i] as number;
        word ^= low;
      }
    }
    logits.set(scratch);
    return;
  }
  for (let w = 0; w < mask.length; w++) {
    let off = ~(mask[w] as number);
    const base = w << 5;
    while (off !== 0) {
      const low = off & -off;
      const i = base + 31 - Math.clz32(low);
      if (i < vocab) logits[i] = -Infinity;
      off ^= low;
    }
  }
}
