// Hugging Face tokenizers (tokenizer.json + tokenizer_config.json) through
// @huggingface/tokenizers, and the model's chat template.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import { type ChatTemplate, createChatTemplate } from './chat-template.ts';
import { cleanUpSpaces } from './clean-up-spaces.ts';
import { readJsonFile } from './hf-config.ts';
import { hfSegmenter } from './hf-segmenter.ts';
import { HfTokenBytes } from './hf-token-bytes.ts';
import { hfWordSplitter } from './hf-words.ts';
import type { Segmenter, Tokenizer } from './tokenizer.ts';

type Json = Record<string, unknown>;

/** tokenizer_config.json writes special tokens as a string or as an AddedToken object. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as Json).content === 'string') {
    return (value as Json).content as string;
  }
  return undefined;
}

/**
 * Which special tokens encode({ addSpecialTokens }) puts around a text, as transformers decides:
 * its Llama-class fast tokenizers (4.x) rebuild tokenizer.json's post-processor from
 * tokenizer_config.json's add_bos_token (default true) and add_eos_token (default false); every
 * other class keeps the post-processor as it is (Llama 3's adds BOS or not depending on the file,
 * Qwen's adds none).
 */
type SpecialTokenRule = { kind: 'post-processor' } | { kind: 'flags'; bos: boolean; eos: boolean };

const FLAG_CLASSES = new Set(['LlamaTokenizer', 'CodeLlamaTokenizer', 'GemmaTokenizer']);

function specialTokenRule(config: Json): SpecialTokenRule {
  const cls = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  if (!FLAG_CLASSES.has(cls)) return { kind: 'post-processor' };
  return { kind: 'flags', bos: config.add_bos_token !== false, eos: config.add_eos_token === true };
}

const NONE_AROUND = { before: [], after: [] };

class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenIds: number[];
  readonly cleansUpSpaces: boolean;
  readonly segmenter?: Segmenter;
  private readonly rule: SpecialTokenRule;
  private readonly bytes: HfTokenBytes;

  constructor(
    readonly id: string,
    private readonly impl: HfTokenizerImpl,
    tokenizerJson: Json,
    config: Json,
    source: string,
  ) {
    let maxId = -1;
    for (const tokenId of impl.get_vocab(true).values()) maxId = Math.max(maxId, tokenId);
    this.vocabSize = maxId + 1;
    this.bytes = new HfTokenBytes(tokenizerJson, this.vocabSize);
    const idOf = (field: string): number | undefined => {
      const token = tokenContent(config[field]);
      if (token === undefined) return undefined;
      const tokenId = impl.token_to_id(token);
      if (tokenId === undefined)
        throw new Error(`${source}: ${field} ${JSON.stringify(token)} is not in the vocabulary`);
      return tokenId;
    };
    const bos = idOf('bos_token');
    if (bos !== undefined) this.bosTokenId = bos;
    const eos = idOf('eos_token');
    this.eosTokenIds = eos === undefined ? [] : [eos];
    // transformers' default; @huggingface/tokenizers would default to true.
    this.cleansUpSpaces = config.clean_up_tokenization_spaces === true;
    this.rule = specialTokenRule(config);
    const encodePiece = (piece: string) => this.impl.encode(piece, { add_special_tokens: false }).ids;
    const segmenter = hfSegmenter(
      tokenizerJson,
      encodePiece,
      (add) => this.around(add),
      hfWordSplitter(tokenizerJson, config, encodePiece),
    );
    if (segmenter) this.segmenter = segmenter;
  }

  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    const around = this.around(opts.addSpecialTokens === true);
    if (around === null) return this.impl.encode(text, { add_special_tokens: true }).ids;
    const ids = this.impl.encode(text, { add_special_tokens: false }).ids;
    return around.before.length + around.after.length === 0
      ? ids
      : [...around.before, ...ids, ...around.after];
  }

  /** The ids encode() puts around a text itself; null when the post-processor adds them. */
  private around(addSpecialTokens: boolean): { before: number[]; after: number[] } | null {
    if (!addSpecialTokens || this.rule.kind !== 'flags') return addSpecialTokens ? null : NONE_AROUND;
    const bos = this.rule.bos && this.bosTokenId !== undefined ? [this.bosTokenId] : [];
    return { before: bos, after: this.rule.eos ? this.eosTokenIds : [] };
  }

  /** Special tokens (BOS, EOS, chat markers) are left out of the text, as serving APIs expect. */
  decode(ids: number[], opts: { cleanUp?: boolean } = {}): string {
    if (ids.length === 0) return '';
    const text = this.impl.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
    return (opts.cleanUp ?? this.cleansUpSpaces) ? cleanUpSpaces(text) : text;
  }

  tokenBytes(id: number): Uint8Array {
    return this.bytes.tokenBytes(id);
  }

  isSpecial(id: number): boolean {
    return this.bytes.isSpecial(id);
  }
}

// Newer transformers save the template as chat_template.jinja; older ones put it
// in tokenizer_config.json, either as one string or as named templates.
async function chatTemplateSource(dir: string, tokenizerConfig: Json): Promise<string | undefined> {
  const jinjaPath = join(dir, 'chat_template.jinja');
  if (existsSync(jinjaPath)) return readFile(jinjaPath, 'utf8');
  const value = tokenizerConfig.chat_template;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.find((t) => (t as Json | null)?.name === 'default') as Json | undefined;
    if (typeof named?.template === 'string') return named.template;
  }
  return undefined;
}

export interface HfTokenizerFiles {
  tokenizer: Tokenizer;
  chatTemplate: ChatTemplate;
}

/** Loads `dir`/tokenizer.json (required) with `dir`/tokenizer_config.json (optional) and the chat template. */
export async function loadHfTokenizer(dir: string, id: string): Promise<HfTokenizerFiles> {
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokenizerPath)) {
    const sentencepiece = existsSync(join(dir, 'tokenizer.model'))
      ? ' (only a SentencePiece tokenizer.model is present, which is not supported; convert it to tokenizer.json)'
      : '';
    throw new Error(`${dir}: missing tokenizer.json${sentencepiece}`);
  }
  const configPath = join(dir, 'tokenizer_config.json');
  const config = (existsSync(configPath) ? await readJsonFile(configPath) : {}) as Json;
  const source = existsSync(configPath) ? configPath : tokenizerPath;
  const tokenizerJson = (await readJsonFile(tokenizerPath)) as Json;
  let impl: HfTokenizerImpl;
  try {
    impl = new HfTokenizerImpl(tokenizerJson, config);
  } catch (err) {
    throw new Error(`${tokenizerPath}: cannot build tokenizer: ${(err as Error).message}`);
  }
  const tokenizer = new HfTokenizer(id, impl, tokenizerJson, config, source);
  const bosToken = tokenContent(config.bos_token);
  const eosToken = tokenContent(config.eos_token);
  const templateSource = await chatTemplateSource(dir, config);
  let chatTemplate: ChatTemplate;
  try {
    chatTemplate = createChatTemplate(templateSource, {
      ...(bosToken === undefined ? {} : { bosToken }),
      ...(eosToken === undefined ? {} : { eosToken }),
    });
  } catch (err) {
    throw new Error(`${dir}: ${(err as Error).message}`);
  }
  return { tokenizer, chatTemplate };
}
