// The worker's Generation service: Generate streams the engine's events as
// deltas and one final message; Info describes the model and the KV pool.
// Errors before the first token are gRPC statuses (the router may retry
// elsewhere); after it, a final with finish_reason ERROR.

import {
  callDeadline,
  type FinishReason,
  type GenerationHandlers,
  type Logger,
  toServerError,
} from '@chunkmesh/common';
import { ChoiceToolCalls, toolCallFormat } from '@chunkmesh/model';
import type {
  FinishReason as EngineFinishReason,
  GenerateEvent,
  GenerateInput,
} from '../engine/engine-types.ts';
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
      (async () => {
        let stream: AsyncIterable<GenerateEvent>;
        let input: GenerateInput | undefined;
        try {
          input = await toGenerateInput(
            call.request,
            runtime.bundle,
            o.limits,
            callDeadline(call),
            abort.signal,
            runtime.constraints,
          );
          stream = runtime.engine.generate(input);
        } catch (err) {
          // refused by the engine (queue full): the constraint matchers it never started
          for (const c of input?.choosers ?? []) c.dispose();
          o.log.debug('generate refused', { error: (err as Error).message });
          call.emit('error', toServerError(err));
          return;
        }
        // a chat with tools called directly (the router sends token ids and parses calls itself)
        const tools =
          call.request.tools.length > 0 && call.request.toolChoice !== 'none'
            ? new ChoiceToolCalls(toolCallFormat(runtime.bundle.chatTemplate))
            : undefined;
        for await (const e of stream) {
          if (abort.signal.aborted) return;
          if (e.type === 'tokens') {
            tools?.push(e.index, e.text);
            call.write({
              delta: { tokenIds: e.ids, text: e.text, index: e.index, logprobs: e.logprobs ?? [] },
            });
            continue;
          }
          if (e.error) o.log.error('generation failed', { error: e.error.message });
          const choices = e.choices.map((c) => {
            const toolCalls = tools?.end(c.index) ?? [];
            return {
              index: c.index,
              finishReason: toolCalls.length > 0 ? 'FINISH_REASON_TOOL_CALLS' : FINISH[c.finishReason],
              toolCalls,
              cumulativeLogprob: c.cumulativeLogprob,
            } as const;
          });
          call.write({
            final: {
              finishReason: choices[0]?.finishReason ?? FINISH[e.finishReason],
              usage: e.usage,
              workerId: o.workerId,
              error: e.error ? 'internal error during generation' : '',
              choices,
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
