// The worker's KV migration calls (WorkerControl ExportPrefix and PullPrefix,
// proto/chunkmesh/v1/kv_migration.proto). KV moves worker to worker over
// gRPC, never through Redis: the job runner asks the target to pull, the
// target tokenizes the prompt (so its chunks get the keys a request's would)
// and streams the source's chunks in, bounded in bytes, then imports them in
// one step. The native import checks every key against the target's own
// tokens and tenant and every checksum, and makes all the chunks visible or
// none: a source that dies mid-stream, or bytes that arrive wrong, leave the
// target holding nothing of the prefix.
import {
  type CertificateFiles,
  clusterChannelCredentials,
  clusterChannelOptions,
  createWorkerControlClient,
  type Init,
  InvalidArgument,
  type KvChunk,
  type Logger,
  NotFound,
  type PullPrefixRequest,
  type PullPrefixResponse,
  ResourceExhausted,
  toServerError,
  Unavailable,
  type WorkerControlHandlers,
} from '@chunkmesh/common';
import type { NativeKvChunk } from '@chunkmesh/native';
import * as grpc from '@grpc/grpc-js';
import type { WorkerRuntime } from '../worker-runtime.ts';
import { controlInput } from './control-input.ts';

/** The most KV bytes one migration moves, whatever the request asks. */
const MAX_MIGRATE_BYTES = 2 ** 30;

export interface MigrationServiceOptions {
  runtime: WorkerRuntime;
  workerId: string;
  epoch: string;
  /** The cluster's mutual TLS, for the call to the source (its id is the TLS server name). */
  clusterTls: CertificateFiles | undefined;
  /** Longest a pull's stream from the source may take. */
  pullTimeoutMs: number;
  log: Logger;
}

/** A uint64 byte bound as the proto loader gives it (decimal text); 0 or more than the cap is the cap. */
function byteBound(requested: string): number {
  const n = Number(requested);
  return n === 0 ? MAX_MIGRATE_BYTES : Math.min(n, MAX_MIGRATE_BYTES);
}

/**
 * The source's chunks, in order, at most maxBytes of them, and their bytes; any failure of the
 * stream is UNAVAILABLE but the source's own refusals; the signal (the pull's caller gone) cancels it.
 */
function pull(
  client: ReturnType<typeof createWorkerControlClient>,
  req: { tokenIds: { ids: number[] }; tenant: string; maxBytes: string },
  timeoutMs: number,
  source: string,
  signal: AbortSignal,
): Promise<{ chunks: NativeKvChunk[]; bytes: number }> {
  return new Promise((resolve, reject) => {
    const chunks: NativeKvChunk[] = [];
    let bytes = 0;
    const stream = client.exportPrefix(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs });
    const cancel = () => {
      stream.cancel();
      reject(new Unavailable(`the pull from ${source} was cancelled`));
    };
    if (signal.aborted) cancel();
    signal.addEventListener('abort', cancel, { once: true });
    stream.on('close', () => signal.removeEventListener('abort', cancel));
    stream.on('data', (m: KvChunk) => {
      bytes += m.kv.length;
      if (m.index !== chunks.length || bytes > Number(req.maxBytes)) {
        stream.cancel();
        reject(
          m.index !== chunks.length
            ? new Unavailable(`source ${source} sent chunk ${m.index} where ${chunks.length} was due`)
            : new ResourceExhausted(`source ${source} sent more than max_bytes ${req.maxBytes}`),
        );
        return;
      }
      chunks.push({ key: BigInt(m.key), checksum: BigInt(m.checksum), bytes: m.kv });
    });
    stream.on('error', (err: grpc.ServiceError) => {
      const why = `source ${source} failed after ${chunks.length} chunks: ${err.details || err.message}`;
      // the source's own refusals keep their status; a broken stream is the source being unavailable
      reject(
        err.code === grpc.status.RESOURCE_EXHAUSTED
          ? new ResourceExhausted(why)
          : err.code === grpc.status.INVALID_ARGUMENT
            ? new InvalidArgument(why)
            : new Unavailable(why),
      );
    });
    stream.on('end', () => resolve({ chunks, bytes }));
  });
}

export function migrationHandlers(
  o: MigrationServiceOptions,
): Pick<WorkerControlHandlers, 'exportPrefix' | 'pullPrefix'> {
  const { runtime } = o;
  const perChunk = runtime.cache.transferChunkBytes;
  const credentials = o.clusterTls
    ? clusterChannelCredentials(o.clusterTls)
    : grpc.credentials.createInsecure();
  let pulling = false;

  /** The pull itself: the prompt, the source's chunks over one stream, their import. */
  async function pullAndImport(
    call: grpc.ServerUnaryCall<PullPrefixRequest, PullPrefixResponse>,
    maxBytes: number,
  ): Promise<Init<PullPrefixResponse>> {
    const r = call.request;
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    const tokens = (await controlInput(r, runtime, abort.signal)).promptTokens;
    const client = createWorkerControlClient(r.sourceEndpoint, credentials, {
      ...(o.clusterTls ? clusterChannelOptions(r.sourceWorkerId) : {}),
      'grpc.max_receive_message_length': perChunk + 4096,
    });
    let pulled: { chunks: NativeKvChunk[]; bytes: number };
    try {
      pulled = await pull(
        client,
        { tokenIds: { ids: tokens }, tenant: r.tenant, maxBytes: String(maxBytes) },
        o.pullTimeoutMs,
        r.sourceWorkerId,
        abort.signal,
      );
    } finally {
      client.close();
    }
    const { chunks, bytes } = pulled;
    if (chunks.length === 0)
      throw new NotFound(`source ${r.sourceWorkerId} holds no whole chunk of this prompt`);
    // a caller gone after the stream ended has its pull dropped here, never imported
    if (abort.signal.aborted) throw new Unavailable(`the pull from ${r.sourceWorkerId} was cancelled`);
    const imported = await runtime.engine.importPrefix(tokens, r.tenant, chunks);
    o.log.info('prefix pulled', {
      source: r.sourceWorkerId,
      chunks: chunks.length,
      importedTokens: imported,
      bytes,
      requestId: r.requestId,
    });
    return {
      promptTokens: tokens.length,
      chunkKeys: chunks.map((c) => String(c.key)),
      importedTokens: imported,
      bytes: String(bytes),
      workerId: o.workerId,
      epoch: o.epoch,
    };
  }

  return {
    exportPrefix(call) {
      (async () => {
        const ids = call.request.tokenIds?.ids ?? [];
        if (ids.length === 0) throw new InvalidArgument('token_ids is empty', { param: 'token_ids' });
        const maxBytes = byteBound(call.request.maxBytes);
        const fit = Math.floor(maxBytes / perChunk);
        // one chunk past the bound tells a prefix that does not fit from one that just fits
        const chunks = await runtime.engine.exportPrefix(ids, call.request.tenant, fit + 1);
        if (chunks.length > fit)
          throw new ResourceExhausted(
            `the cached prefix is over max_bytes ${maxBytes} (${perChunk} bytes a chunk)`,
          );
        for (const [index, c] of chunks.entries()) {
          if (call.cancelled) return;
          const kv = Buffer.from(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength);
          if (!call.write({ index, key: String(c.key), checksum: String(c.checksum), kv }))
            await new Promise<void>((resolve) => {
              // whichever comes first; the other's listener goes, or every wait would leave one behind
              const go = () => {
                call.off('drain', go);
                call.off('cancelled', go);
                resolve();
              };
              call.once('drain', go);
              call.once('cancelled', go);
            });
        }
        call.end();
      })().catch((err: unknown) => {
        o.log.debug('export refused', { error: (err as Error).message });
        call.emit('error', toServerError(err));
      });
    },

    pullPrefix(call, callback) {
      (async () => {
        const r = call.request;
        if (!r.sourceEndpoint || !r.sourceWorkerId)
          throw new InvalidArgument('source_endpoint and source_worker_id are required', {
            param: 'source_endpoint',
          });
        if (r.sourceWorkerId === o.workerId)
          throw new InvalidArgument('the source is this worker', { param: 'source_worker_id' });
        const maxBytes = byteBound(r.maxBytes);
        // One pull at a time, from here to its import (each holds up to MAX_MIGRATE_BYTES until
        // then): taken before the first await, so two calls cannot both pass the check.
        if (pulling)
          throw new ResourceExhausted('this worker is already pulling a prefix; try again when it is done');
        pulling = true;
        try {
          return await pullAndImport(call, maxBytes);
        } finally {
          pulling = false;
        }
      })().then(
        (res) => callback(null, res),
        (err: unknown) => {
          o.log.debug('pull failed', { error: (err as Error).message });
          callback(toServerError(err));
        },
      );
    },
  };
}
