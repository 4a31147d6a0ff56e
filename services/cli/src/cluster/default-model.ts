// The built-in default model: a tiny Llama with deterministic random weights,
// generated once into .chunkmesh/models/ under the repository. Its text is
// noise; it exists so the cluster runs anywhere with no download. Pass
// --model DIR for a real model.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyModel } from '@chunkmesh/model';
import { REPO_ROOT } from '../paths.ts';

const SHAPE = {
  dim: 256,
  hiddenDim: 688,
  layers: 4,
  heads: 8,
  kvHeads: 4,
  vocabSize: 1024,
  maxSeqLen: 4096,
  seed: 7,
} as const;

export async function defaultModelDir(log: (line: string) => void): Promise<string> {
  const dir = join(REPO_ROOT, '.chunkmesh', 'models', 'tiny-default-v1');
  if (existsSync(join(dir, 'config.json'))) return dir;
  log(`generating the built-in default model (tiny Llama, random weights) in ${dir}`);
  await writeTinyModel(dir, { ...SHAPE, onProgress: (m) => m.startsWith('wrote') && log(`  ${m}`) });
  return dir;
}
