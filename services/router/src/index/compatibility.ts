// Whether a worker's registered cluster constants equal the router's own
// (ARCHITECTURE.md, "Cluster constants"). Under another chunk size, model id
// or chunk-key format (the version of the key function the worker's addon
// computes, compared with this router's) every chunk key differs, so placing there would find no cached prefix and
// the hit rate would silently drop to zero: such a worker is incompatible,
// shown but never placed on.
import type { ClusterConstants, WorkerRecord } from '@chunkmesh/common';
import { CHUNK_KEY_FORMAT } from '@chunkmesh/native';

/** Metric label values of chunkmesh_router_incompatible_workers. */
export const MISMATCH_REASONS = ['chunk_tokens', 'model_id', 'key_format'] as const;
export type MismatchReason = (typeof MISMATCH_REASONS)[number];

export interface Mismatch {
  reason: MismatchReason;
  worker: string | number;
  router: string | number;
}

/** Every constant of the record that differs from the router's; empty when compatible. */
export function mismatches(record: WorkerRecord, own: ClusterConstants): Mismatch[] {
  const out: Mismatch[] = [];
  if (record.chunkTokens !== own.chunkTokens)
    out.push({ reason: 'chunk_tokens', worker: record.chunkTokens, router: own.chunkTokens });
  if (record.modelId !== own.modelId)
    out.push({ reason: 'model_id', worker: record.modelId, router: own.modelId });
  if (record.keyFormat !== CHUNK_KEY_FORMAT)
    out.push({ reason: 'key_format', worker: record.keyFormat, router: CHUNK_KEY_FORMAT });
  return out;
}

const NAMES: Record<MismatchReason, string> = {
  chunk_tokens: 'chunk size',
  model_id: 'model id',
  key_format: 'chunk-key format',
};

/** "chunk size 32 differs from the router's 16; model id ..." */
export function describeMismatches(list: readonly Mismatch[]): string {
  return list
    .map(
      (m) =>
        `${NAMES[m.reason]} ${JSON.stringify(m.worker)} differs from the router's ${JSON.stringify(m.router)}`,
    )
    .join('; ');
}
