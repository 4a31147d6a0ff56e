// Chunk keys (ARCHITECTURE.md, data path step 3), computed by the same C++
// function the worker's prefix tree uses, so router and worker always agree.
// The function is specified in native/src/kv/chunk_key.h.
import { native } from './binding.ts';
import { translated } from './errors.ts';
import { toInt32Tokens } from './tokens.ts';

export interface ChunkKeySpace {
  modelId: string;
  chunkTokens: number;
  /** Tenant salt; different salts never share keys (or tree nodes). */
  salt: string;
}

/**
 * The version of the key function: any change to the keys of the same tokens bumps it. Workers
 * register it and routers place only on workers of their own format, as a key-format mismatch
 * would silently miss every cached prefix.
 */
export const CHUNK_KEY_FORMAT: number = native.chunkKeyFormat;

export function chunkKeyRoot(space: ChunkKeySpace): bigint {
  return translated(() => native.chunkKeyRoot(space.modelId, space.chunkTokens, space.salt));
}

/**
 * Roots by salt for one (model, chunk size), the last one asked about: a router or worker serves
 * one model, so this is every root it needs; bounded, as tenants are request input.
 */
const MAX_CACHED_ROOTS = 4096;
let rootsOf: { modelId: string; chunkTokens: number; bySalt: Map<string, bigint> } | undefined;

function cachedRoot(space: ChunkKeySpace): bigint {
  if (rootsOf?.modelId !== space.modelId || rootsOf.chunkTokens !== space.chunkTokens)
    rootsOf = { modelId: space.modelId, chunkTokens: space.chunkTokens, bySalt: new Map() };
  let root = rootsOf.bySalt.get(space.salt);
  if (root === undefined) {
    root = chunkKeyRoot(space);
    if (rootsOf.bySalt.size >= MAX_CACHED_ROOTS) rootsOf.bySalt.clear();
    rootsOf.bySalt.set(space.salt, root);
  }
  return root;
}

/**
 * Keys of every full chunk of `tokens`, chained from the space's root: a new array, or, given
 * `into` with room for them all, a view of its start (for a caller placing many prompts, whose
 * keys it no longer needs once the next prompt's are made).
 */
export function chunkKeys(
  space: ChunkKeySpace,
  tokens: ArrayLike<number>,
  into?: BigUint64Array,
): BigUint64Array {
  const root = cachedRoot(space);
  // The addon reads the tokens before it returns: a reused buffer does.
  const ids = toInt32Tokens(tokens, true);
  return translated(() =>
    into === undefined
      ? native.chunkKeys(root, ids, space.chunkTokens)
      : into.subarray(0, native.chunkKeys(root, ids, space.chunkTokens, into)),
  );
}
