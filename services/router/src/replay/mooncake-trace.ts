// The Mooncake trace format (workloads/README.md): one JSON object a line
// with arrival time, prompt and output lengths and chained 512-token block
// ids, in a .jsonl file or a gzip-compressed .jsonl.gz one. Replaying at chunk size c expands each block into 512/c chunks
// whose token content derives from (block id, chunk index), so shared blocks
// give shared chunks and nothing else does.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export const TRACE_BLOCK_TOKENS = 512;

export interface TraceRequest {
  timestampMs: number;
  inputLength: number;
  outputLength: number;
  hashIds: number[];
}

export async function readTrace(path: string, limit = Infinity): Promise<TraceRequest[]> {
  const out: TraceRequest[] = [];
  const lines = createInterface({ input: traceText(path), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    if (out.length >= limit) break;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${path}:${n}: not JSON`);
    }
    const { timestamp, input_length, output_length, hash_ids } = o;
    if (
      typeof timestamp !== 'number' ||
      typeof input_length !== 'number' ||
      typeof output_length !== 'number' ||
      !Array.isArray(hash_ids) ||
      !hash_ids.every((h) => Number.isInteger(h))
    ) {
      throw new Error(
        `${path}:${n}: needs timestamp, input_length, output_length (numbers) and hash_ids (integers)`,
      );
    }
    if (hash_ids.length !== Math.ceil(input_length / TRACE_BLOCK_TOKENS)) {
      throw new Error(
        `${path}:${n}: ${hash_ids.length} hash_ids for ${input_length} input tokens (expected ceil(input/512))`,
      );
    }
    out.push({
      timestampMs: timestamp,
      inputLength: input_length,
      outputLength: output_length,
      hashIds: hash_ids,
    });
  }
  return out;
}

/** The file's text, decompressed when it is a .gz; a read or gzip error fails the stream. */
function traceText(path: string): Readable {
  const file = createReadStream(path);
  if (!path.endsWith('.gz')) return file;
  // pipeline, not pipe: it destroys the gunzip stream with the file's error, so the reader sees it.
  return pipeline(file, createGunzip(), () => undefined);
}

/**
 * The prompt's token ids at chunk size c (which must divide 512). Token t of chunk j of block b is a
 * hash of (b, j, t): equal block ids give equal tokens, anything else differs with overwhelming probability.
 */
export function traceTokens(req: TraceRequest): Int32Array {
  const tokens = new Int32Array(req.inputLength);
  for (let i = 0; i < req.inputLength; i++) {
    const block = req.hashIds[Math.floor(i / TRACE_BLOCK_TOKENS)] as number;
    tokens[i] = tokenHash(block, i % TRACE_BLOCK_TOKENS);
  }
  return tokens;
}

function tokenHash(block: number, offset: number): number {
  let h = Math.imul(block ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(offset + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) & 0x7fffffff;
}
