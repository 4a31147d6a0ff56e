// Chunk keys (ARCHITECTURE.md, data path step 3), computed by the same C++
// function the worker's prefix tree uses, so router and worker always agree.
import { native } from './binding.ts';
import { translated } from './errors.ts';
import { toInt32Tokens } from './tokens.ts';

export interface ChunkKeySpace {
  modelId: string;
  chunkTokens: number;
  /** Tenant salt; different salts never share keys (or tree nodes). */
  salt: string;
}

export function chunkKeyRoot(space: ChunkKeySpace): bigint {
  return translated(() => native.chunkKeyRoot(space.modelId, space.chunkTokens, space.salt));
}

/** Keys of every full chunk of `tokens`, chained from the space's root. */
export function chunkKeys(space: ChunkKeySpace, tokens: ArrayLike<number>): BigUint64Array {
  const root = chunkKeyRoot(space);
  return translated(() => native.chunkKeys(root, toInt32Tokens(tokens), space.chunkTokens));
}
