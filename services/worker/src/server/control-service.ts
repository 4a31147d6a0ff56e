// The worker's WorkerControl service (proto/chunkmesh/v1/generation.proto),
// called by the control plane's job runner under the cluster's credentials.
//
// Prefill runs the prompt through the engine as a request of one token and
// drops that token: prefill computes the logits of the prompt's last row
// anyway, so the cost is the prefill itself, and the prompt's full chunks stay
// in the prefix tree once the sequence is released (reported to Redis like
// any request's). It queues behind the engine's requests and is refused like
// one (queue full: RESOURCE_EXHAUSTED; draining: UNAVAILABLE).
//
// Drain hands over to the process's own drain (main.ts): the answer is sent
// once the registry entry says draining, so the caller knows that routers
// stop placing here from their next registry read on.
import type {
  GenerateRequest,
  Logger,
  PrefillRequest,
  TierMoveRequest,
  WorkerControlHandlers,
} from '@chunkmesh/common';
import { toServerError } from '@chunkmesh/common';
import { chunkKeys } from '@chunkmesh/native';
import type { WorkerRuntime } from '../worker-runtime.ts';
import { toGenerateInput } from './request-input.ts';

export interface ControlServiceOptions {
  runtime: WorkerRuntime;
  workerId: string;
  epoch: string;
  /** Starts the process's drain (registry draining, in-flight finish, deregister, exit); resolves once the entry says draining. */
  drain(graceMs: number | undefined): Promise<{ inFlight: number }>;
  log: Logger;
}

/**
 * A control call's prompt (text, token ids or chat messages, and the tenant salting its keys) as
 * the engine's input: rendered, tokenized and checked exactly as a request's.
 */
export function promptInput(
  runtime: WorkerRuntime,
  r: PrefillRequest | TierMoveRequest,
  requestId: string,
  signal: AbortSignal,
): ReturnType<typeof toGenerateInput> {
  const asRequest = {
    ...(r.prompt === 'text'
      ? { prompt: 'text', text: r.text }
      : r.prompt === 'tokenIds'
        ? { prompt: 'tokenIds', tokenIds: r.tokenIds }
        : {}),
    messages: r.messages,
    sampling: null,
    tenant: r.tenant,
    sessionId: '',
    requestId,
    tools: [],
    toolChoice: '',
  } as GenerateRequest;
  return toGenerateInput(
    asRequest,
    runtime.bundle,
    { defaultMaxTokens: 1 },
    undefined,
    signal,
    runtime.constraints,
  );
}

export function controlHandlers(o: ControlServiceOptions): Pick<WorkerControlHandlers, 'prefill' | 'drain'> {
  const { runtime } = o;
  return {
    prefill(call, callback) {
      (async () => {
        const { tenant, requestId } = call.request;
        const abort = new AbortController();
        call.on('cancelled', () => abort.abort());
        const input = await promptInput(runtime, call.request, requestId, abort.signal);
        let cachedTokens = 0;
        for await (const e of runtime.engine.generate({ ...input, maxTokens: 1 })) {
          if (e.type !== 'final') continue;
          if (e.finishReason === 'error' || e.finishReason === 'cancelled' || e.finishReason === 'deadline')
            throw e.error ?? new Error(`prefill ended: ${e.finishReason}`);
          cachedTokens = e.usage.cachedPromptTokens;
        }
        const keys = chunkKeys(
          {
            modelId: runtime.bundle.model.config.modelId,
            chunkTokens: runtime.cache.chunkTokens,
            salt: tenant,
          },
          input.promptTokens,
        );
        return {
          promptTokens: input.promptTokens.length,
          cachedTokens,
          chunkKeys: Array.from(keys, String),
          workerId: o.workerId,
          epoch: o.epoch,
        };
      })().then(
        (r) => callback(null, r),
        (err: unknown) => {
          o.log.debug('prefill refused', { error: (err as Error).message });
          callback(toServerError(err));
        },
      );
    },
    drain(call, callback) {
      o.drain(call.request.graceMs || undefined).then(
        ({ inFlight }) => callback(null, { workerId: o.workerId, inFlight }),
        (err: unknown) => callback(toServerError(err)),
      );
    },
  };
}
