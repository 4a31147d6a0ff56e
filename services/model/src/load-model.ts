// One entry point for every model format the worker serves: a Hugging Face
// directory (config.json + safetensors + tokenizer.json) or a llama2.c one
// (a .bin checkpoint + a tok*.bin tokenizer), recognised by the files present.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChatTemplate, createChatTemplate } from './chat-template.ts';
import { readHfConfig } from './hf-config.ts';
import { loadHfTokenizer } from './hf-tokenizer.ts';
import { loadHfWeights } from './hf-weights.ts';
import { loadLlama2cCheckpoint } from './llama2c-checkpoint.ts';
import { type Llama2cTokenizer, loadLlama2cTokenizer } from './llama2c-tokenizer.ts';
import type { LoadedModel } from './model-spec.ts';
import { SafetensorsReader } from './safetensors.ts';
import type { Tokenizer } from './tokenizer.ts';

export interface ModelBundle {
  model: LoadedModel;
  tokenizer: Tokenizer;
  /** The model's chat template, or the documented fallback format when it has none. */
  chatTemplate: ChatTemplate;
  /** When the model was made, in Unix seconds: its config.json's (or checkpoint's) modification time. */
  created: number;
}

async function createdAt(file: string): Promise<number> {
  return Math.floor((await stat(file)).mtimeMs / 1000);
}

const EXPECTED =
  'expected a Hugging Face model (config.json, model.safetensors or model.safetensors.index.json, tokenizer.json) ' +
  'or a llama2.c model (one *.bin checkpoint and a tok*.bin tokenizer)';

export interface LoadModelOptions {
  /** false: config, tokenizer and chat template only (tensors left empty), as a router needs. */
  weights?: boolean;
}

async function loadHf(dir: string, weights: boolean): Promise<ModelBundle> {
  const config = await readHfConfig(dir);
  const { tokenizer, chatTemplate } = await loadHfTokenizer(dir, config.modelId);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(
      `${dir}: tokenizer has ${tokenizer.vocabSize} tokens but the model embeds only vocab_size ${config.vocabSize}`,
    );
  }
  // Base-model configs sometimes leave out the special ids the tokenizer knows.
  if (config.bosTokenId === undefined && tokenizer.bosTokenId !== undefined)
    config.bosTokenId = tokenizer.bosTokenId;
  if (config.eosTokenIds.length === 0) config.eosTokenIds = [...tokenizer.eosTokenIds];
  const created = await createdAt(join(dir, 'config.json'));
  if (!weights) return { model: { config, tensors: new Map() }, tokenizer, chatTemplate, created };
  const reader = await SafetensorsReader.open(dir);
  try {
    const tensors = await loadHfWeights(reader, config);
    return { model: { config, tensors }, tokenizer, chatTemplate, created };
  } finally {
    await reader.close();
  }
}

// llama2.c ships several tokenizers side by side (tokenizer.bin, tok512.bin...);
// the right one is the one whose entry count is the checkpoint's vocabulary.
async function pickLlama2cTokenizer(
  dir: string,
  files: string[],
  vocabSize: number,
): Promise<Llama2cTokenizer> {
  const fits: Llama2cTokenizer[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      fits.push(await loadLlama2cTokenizer(join(dir, file), vocabSize));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (fits.length === 1) return fits[0] as Llama2cTokenizer;
  if (fits.length === 0) {
    throw new Error(`${dir}: no tokenizer fits the checkpoint's ${vocabSize} tokens: ${problems.join('; ')}`);
  }
  throw new Error(`${dir}: several tokenizers fit the checkpoint's ${vocabSize} tokens: ${files.join(', ')}`);
}

async function loadLlama2c(dir: string, checkpoint: string, tokenizerFiles: string[]): Promise<ModelBundle> {
  const model = await loadLlama2cCheckpoint(join(dir, checkpoint));
  const tokenizer = await pickLlama2cTokenizer(dir, tokenizerFiles, model.config.vocabSize);
  const created = await createdAt(join(dir, checkpoint));
  return { model, tokenizer, chatTemplate: createChatTemplate(undefined), created };
}

/** Loads the model and tokenizer in `dir`, whichever supported format it holds. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<ModelBundle> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`${dir}: not a directory; ${EXPECTED}`);
  const files = (await readdir(dir)).sort();
  if (files.includes('config.json')) return loadHf(dir, options.weights ?? true);

  const bins = files.filter((f) => f.endsWith('.bin'));
  const tokenizers = bins.filter((f) => f.startsWith('tok'));
  const checkpoints = bins.filter((f) => !f.startsWith('tok'));
  if (checkpoints.length === 1 && tokenizers.length > 0) {
    return loadLlama2c(dir, checkpoints[0] as string, tokenizers);
  }
  const found = files.length === 0 ? 'nothing' : files.join(', ');
  const why =
    checkpoints.length > 1
      ? `several llama2.c checkpoints (${checkpoints.join(', ')}), pick one directory each; `
      : '';
  throw new Error(`${dir}: unrecognised model directory: found ${found}; ${why}${EXPECTED}`);
}
