// The benchmarks' model and prompts: a random-weight Llama of a given shape,
// generated once into a cache directory (named by a hash of its shape) and
// reused, and seeded token streams for prompts.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TINY_SPECIAL_TOKENS, type TinyModelOptions, writeTinyModel } from '@chunkmesh/model';

export type BenchModelShape = Omit<TinyModelOptions, 'dtype'>;

/** The model directory for this shape, generated on first use (bf16: half the file; the CPU loader widens it). */
export async function randomBenchModel(
  shape: BenchModelShape,
  modelCache: string,
  log: (msg: string) => void,
): Promise<{ dir: string; shape: TinyModelOptions }> {
  const full: TinyModelOptions = { ...shape, dtype: 'bf16' };
  const hash = createHash('sha256').update(JSON.stringify(full)).digest('hex').slice(0, 16);
  const dir = resolve(modelCache, hash);
  if (existsSync(join(dir, 'config.json'))) {
    log(`model: reusing ${dir}`);
    return { dir, shape: full };
  }
  log(`model: generating ${JSON.stringify(full)} into ${dir} ...`);
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await writeTinyModel(tmp, full);
  await writeFile(join(tmp, 'bench-shape.json'), `${JSON.stringify(full, null, 2)}\n`);
  await mkdir(resolve(modelCache), { recursive: true });
  await rename(tmp, dir);
  return { dir, shape: full };
}

/** A seeded stream of xorshift32 token ids in [first non-special id, vocab). */
export function tokenStream(seed: number, vocab: number): (n: number) => number[] {
  let s = seed >>> 0 || 0x9e3779b9;
  const lo = TINY_SPECIAL_TOKENS.length;
  return (n) =>
    Array.from({ length: n }, () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return lo + (s % (vocab - lo));
    });
}
