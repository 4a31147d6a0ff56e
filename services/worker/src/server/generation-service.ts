// The worker's Generation service: Generate streams the engine's events as
// deltas and one final message; Info describes the model and the KV pool.
// Errors before the first token are gRPC statuses (the router may retry
// elsewhere); after it, a final with finish_reason ERROR.

import {
  callDeadline,
  type FinishReason,
  type GenerateRequest,
  type GenerationHandlers,
  type Logger,
  toServerError,
} from '@chunkmesh/common';
import type * as grpc from '@grpc/grpc-js';
import type { FinishReason as EngineFinishReason, GenerateEvent } from '../engine/engine-types.ts';
import type { WorkerRuntime } from '../worker-runtime.ts';
import { type RequestLimits, toGenerateInput } from './request-input.ts';

const FINISH: Record<EngineFinishReason, FinishReason> = {
  stop: 'FINISH_REASON_STOP',
  length: 'FINISH_REASON_LENGTH',
  cancelled: 'FINISH_REASON_CANCELLED',
  deadline: 'FINISH_REASON_CANCELLED',
  error: 'FINISH_REASON_ERROR',
};

export interface GenerationServiceOptions {
  runtime: WorkerRuntime;
  workerId: string;
  epoch: string;
  limits: RequestLimits;
  log: Logger;
}

export function generationHandlers(o: GenerationServiceOptions): GenerationHandlers {
  const { runtime } = o;
  return {
    generate(call) {
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      let stream: AsyncIterable<GenerateEvent>;
      try {
        const input = toGenerateInput(
          call.request,
          runtime.bundle,
          o.limits,
          callDeadline(call),
          abort.signal,
        );
        stream = runtime.engine.generate(input);
      } catch (err) {
        o.log.debug('generate refused', { error: (err as Error).message });
        call.emit('error', toServerError(err));
        return;
      }
      (async () => {
        for await (const e of stream) {
          if (abort.signal.aborted) return;
          if (e.type === 'tokens') {
            call.write({ delta: { tokenIds: e.ids, text: e.text } });
            continue;
          }
          if (e.error) o.log.error('generation failed', { error: e.error.message });
          call.write({
            final: {
              finishReason: FINISH[e.finishReason],
              usage: e.usage,
              workerId: o.workerId,
              error: e.error ? 'internal error during generation' : '',
            },
          });
        }
        call.end();
      })().catch((err: unknown) => {
        o.log.error('generate stream failed', { error: (err as Error).message });
        call.emit('error', toServerError(err));
      });
    },
    info(_call, callback) {
      const c = runtime.bundle.model.config;
      const device = runtime.cache.device();
      callback(null, {
        modelId: c.modelId,
        chunkTokens: runtime.cache.chunkTokens,
        capacityChunks: runtime.cache.capacityChunks,
        kvBytesPerToken: runtime.cache.chunkBytes / runtime.cache.chunkTokens,
        tokenizerId: runtime.bundle.tokenizer.id,
        vocabSize: c.vocabSize,
        maxSeqLen: c.maxSeqLen,
        workerId: o.workerId,
        epoch: o.epoch,
        device: `${device.name} (${device.detail})`,
        kvDtype: runtime.cache.dtype,
      });
    },
  };
}
