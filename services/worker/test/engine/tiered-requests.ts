// What the tests of the engine over tiered KV share: the runtime, requests on
// stories260K, prompts that share nothing, pushing cached prefixes down the
// tiers, and damaging the disk tier's file.
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { STORIES_DIR } from '@chunkmesh/test-support';
import type { GenerateEvent, GenerateInput } from '../../src/engine/engine-types.ts';
import type { WorkerRuntime, WorkerRuntimeOptions } from '../../src/worker-runtime.ts';

export const BOS = 1;
export const EOS = 2;
export const CHUNK = 16;
/** stories260K: 5 layers, K and V, 4 KV heads of 8 dims, f32, a chunk of CHUNK tokens. */
export const CHUNK_BYTES = 5 * 2 * 4 * CHUNK * 8 * 4;

/** A runtime whose device pool holds 12 chunks, over a 4-chunk host tier and a disk tier in diskDir (null: no tiers). */
export function tieredRuntimeOptions(
  diskDir: string | null,
  o: { lookAhead?: number; maxBatch?: number } = {},
): WorkerRuntimeOptions {
  return {
    modelDir: STORIES_DIR,
    kvCapacityTokens: 12 * CHUNK,
    chunkTokens: CHUNK,
    dtype: 'f32',
    threads: 2,
    ...(diskDir !== null
      ? {
          tiers: {
            hostBytes: 4 * CHUNK_BYTES,
            diskDir,
            diskBytes: 256 * 24576,
            lookAhead: o.lookAhead ?? 16,
            // the rates of this shared machine vary; the policy has its own test (restore-policy.test.ts)
            restore: 'always',
          },
        }
      : {}),
    engine: { prefixSharing: true, stepTokens: 256, maxBatch: o.maxBatch ?? 8, maxQueue: 64 },
  };
}

export function input(
  promptTokens: number[],
  maxTokens: number,
  extra: Partial<GenerateInput> = {},
): GenerateInput {
  return {
    requestId: Math.random().toString(36).slice(2),
    promptTokens,
    sampling: { temperature: 0, topK: 0, topP: 1 },
    maxTokens,
    eosTokenIds: [EOS],
    stopTokenIds: [],
    stopStrings: [],
    salt: '',
    ...extra,
  };
}

export async function tokens(stream: AsyncIterable<GenerateEvent>): Promise<number[]> {
  const ids: number[] = [];
  for await (const e of stream) {
    if (e.type === 'tokens') ids.push(...e.ids);
    else if (e.finishReason === 'error') throw e.error ?? new Error('request failed');
  }
  return ids;
}

/** A story of n tokens after BOS, and prompts that share nothing with it (different first tokens). */
export async function story(rt: WorkerRuntime, n: number): Promise<number[]> {
  return [BOS, ...(await tokens(rt.engine.generate(input([BOS], n, { eosTokenIds: [] }))))];
}

export function other(i: number): number[] {
  return Array.from({ length: 7 * CHUNK + 3 }, (_, t) => 3 + ((i * 37 + t * 11) % 500));
}

/** Pushes what is cached down the tiers by running unrelated prompts, letting the disk IO land in between. */
export async function pushDown(rt: WorkerRuntime, rounds: number, first = 0): Promise<void> {
  for (let i = first; i < first + rounds; i++) {
    await tokens(rt.engine.generate(input(other(i), 1)));
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function corrupt(path: string): void {
  const fd = openSync(path, 'r+');
  const size = fstatSync(fd).size;
  const junk = Buffer.alloc(4096, 0xab);
  for (let at = 0; at < size; at += junk.length) writeSync(fd, junk, 0, junk.length, at);
  closeSync(fd);
}
