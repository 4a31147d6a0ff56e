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
import type { Logger, WorkerControlHandlers } from '@chunkmesh/common';
import { toServerError } from '@chunkmesh/common';
import type { WorkerRuntime } from '../worker-runtime.ts';
import { controlInput, promptKeys } from './control-input.ts';

export interface ControlServiceOptions {
  runtime: WorkerRuntime;
  workerId: string;
  epoch: string;
  /** Starts the process's drain (registry draining, in-flight finish, deregister, exit); resolves once the entry says draining. */
  drain(graceMs: number | undefined): Promise<{ inFlight: number }>;
  log: Logger;
}

export function controlHandlers(o: ControlServiceOptions): Pick<WorkerControlHandlers, 'prefill' | 'drain'> {
  const { runtime } = o;
  return {
    prefill(call, callback) {
      (async () => {
        const abort = new AbortController();
        call.on('cancelled', () => abort.abort());
        const input = await controlInput(call.request, runtime, abort.signal);
        const { tenant } = call.request;
        let cachedTokens = 0;
        for await (const e of runtime.engine.generate({ ...input, maxTokens: 1 })) {
          if (e.type !== 'final') continue;
          if (e.finishReason === 'error' || e.finishReason === 'cancelled' || e.finishReason === 'deadline')
            throw e.error ?? new Error(`prefill ended: ${e.finishReason}`);
          cachedTokens = e.usage.cachedPromptTokens;
        }
        const keys = promptKeys(runtime, tenant, input.promptTokens);
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
