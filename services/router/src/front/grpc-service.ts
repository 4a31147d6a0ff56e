// The router's Generation service: the same contract as a worker's, for the
// whole cluster. Prompts in any form are tokenised here (chunk keys need the
// ids), sampling parameters checked by the rules the HTTP door applies too,
// then forwarded as ids; a failure after tokens were streamed ends the call
// with UNAVAILABLE (DEADLINE_EXCEEDED when time ran out), the streamed tokens
// being what was produced. Both methods need an API key (metadata
// `authorization: Bearer <key>`) when the router has them, and Generate runs
// as the key's tenant (auth/authenticator.ts).

import { randomUUID } from 'node:crypto';
import {
  callDeadline,
  checkTenancy,
  type GenerationHandlers,
  InvalidArgument,
  type Logger,
  toServerError,
  Unavailable,
} from '@chunkmesh/common';
import {
  ChoiceToolCalls,
  checkedToolSampling,
  type ModelBundle,
  promptInputOf,
  toolCallFormat,
} from '@chunkmesh/model';
import type * as grpc from '@grpc/grpc-js';
import type { Authenticator } from '../auth/authenticator.ts';
import type { RouterCore } from '../forwarding/router-core.ts';
import type { ClusterIndex } from '../index/cluster-index.ts';
import { readiness } from '../index/readiness.ts';
import { checkedPrompt } from './prompt-check.ts';

export interface RouterGrpcOptions {
  /** The request path (the router core behind per-tenant limits). */
  core: Pick<RouterCore, 'route'>;
  auth: Authenticator;
  bundle: ModelBundle;
  index: Pick<ClusterIndex, 'workers' | 'incompatibleWorkers'>;
  modelId: string;
  chunkTokens: number;
  log: Logger;
}

function authorizationOf(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  return typeof value === 'string' ? value : undefined;
}

export function routerGenerationHandlers(o: RouterGrpcOptions): GenerationHandlers {
  return {
    generate(call) {
      const arrivedAt = performance.now();
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      (async () => {
        const principal = o.auth.authenticate(authorizationOf(call.metadata));
        const tenancy = checkTenancy(call.request);
        const tenant = o.auth.tenantFor(principal, tenancy.tenant);
        const prompt = promptInputOf(call.request);
        const sampling = checkedToolSampling(call.request, prompt, o.bundle.chatTemplate);
        const tools = prompt.kind === 'chat' && prompt.tools?.length ? prompt : undefined;
        const checked = checkedPrompt(prompt, sampling, o.bundle, undefined);
        // the worker gets token ids: the calls are parsed here, from the text it streams
        const calls =
          tools && tools.toolChoice !== 'none'
            ? new ChoiceToolCalls(toolCallFormat(o.bundle.chatTemplate))
            : undefined;
        const deadline = callDeadline(call);
        for await (const e of o.core.route({
          promptTokens: checked.tokens,
          promptIds: checked.ids,
          door: 'grpc',
          arrivedAt,
          sampling,
          tenant,
          sessionId: tenancy.sessionId,
          requestId: call.request.requestId || randomUUID(),
          ...(deadline !== undefined ? { deadline } : {}),
          signal: abort.signal,
        })) {
          if (abort.signal.aborted) return;
          if (e.type === 'delta') {
            calls?.push(e.index, e.text);
            call.write({
              delta: { tokenIds: e.tokenIds, text: e.text, index: e.index, logprobs: e.logprobs },
            });
            continue;
          }
          const choices = e.final.choices.map((c) => {
            const toolCalls = calls?.end(c.index) ?? [];
            return toolCalls.length > 0
              ? { ...c, toolCalls, finishReason: 'FINISH_REASON_TOOL_CALLS' as const }
              : c;
          });
          call.write({
            final: { ...e.final, choices, finishReason: choices[0]?.finishReason ?? e.final.finishReason },
          });
        }
        call.end();
      })().catch((err: unknown) => {
        if (abort.signal.aborted) return;
        if (!(err instanceof InvalidArgument) && !(err instanceof Unavailable)) {
          o.log.debug('generate failed', { error: (err as Error).message });
        }
        call.emit('error', toServerError(err));
      });
    },
    info(call, callback) {
      try {
        o.auth.authenticate(authorizationOf(call.metadata));
      } catch (err) {
        callback(toServerError(err));
        return;
      }
      const live = o.index.workers();
      const c = o.bundle.model.config;
      callback(null, {
        modelId: o.modelId,
        chunkTokens: o.chunkTokens,
        capacityChunks: live.reduce((n, w) => n + w.capacityChunks, 0),
        tokenizerId: o.bundle.tokenizer.id,
        vocabSize: c.vocabSize,
        maxSeqLen: c.maxSeqLen,
        workerId: '',
        incompatibleWorkers: readiness(o.index).incompatibleWorkers,
      });
    },
  };
}
