// English-looking text of a given length from a small word list, seeded: the
// benchmarks' prompt text for real tokenizers (sentences, capitals, full stops).
import { splitmix32 } from '@chunkmesh/model';

const WORDS = (
  'once upon a time there was a little girl named lily she loved to play outside in the park ' +
  'one day she saw a big red ball and wanted to play with it but it was too high her mom said ' +
  'you are a helpful assistant answer the question using the context below be concise and cite ' +
  'the sources when the user asks for code write it in typescript explain each step carefully'
).split(' ');

export function wordText(seed: number, words: number): string {
  const r = splitmix32(seed);
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    let w = WORDS[Math.floor(r() * WORDS.length)] as string;
    if (i % 12 === 0) w = w[0]?.toUpperCase() + w.slice(1);
    out.push(i % 12 === 11 ? `${w}.` : w);
  }
  return out.join(' ');
}
