// The vendored stories260K model (test/fixtures/stories260K: a real, tiny,
// trained llama2.c checkpoint and its tokenizer) and what llama2.c prints for it.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STORIES_DIR = fileURLToPath(new URL('../fixtures/stories260K', import.meta.url));
export const CHECKPOINT = join(STORIES_DIR, 'stories260K.bin');
export const TOKENIZER = join(STORIES_DIR, 'tok512.bin');

/** What llama2.c prints for stories260K, greedy from BOS alone (test/fixtures/stories260K/README.md). */
export const REFERENCE_TEXT =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ' +
  'One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n' +
  "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. " +
  'She said, "I want to play with your ball, but I can\'t find it."';

/** n deterministic pseudo-random token ids in [3, 512) (no BOS/EOS/UNK), seeded. */
export function tokenRun(seed: number, n: number): number[] {
  let x = (seed * 2654435761 + 12345) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out.push(3 + (x % 509));
  }
  return out;
}
