// A WorkerControl call's prompt (text, messages or token ids, as Prefill,
// PullPrefix, Spill and Restore take it) as the engine's input: tokenized and checked exactly as
// a Generate request's would be, so its chunks get the keys that request's get.
import type { GenerateRequest, PrefillRequest, PullPrefixRequest, TierMoveRequest } from '@chunkmesh/common';
import { chunkKeys } from '@chunkmesh/native';
import type { GenerateInput } from '../engine/engine-types.ts';
import type { WorkerRuntime } from '../worker-runtime.ts';
import { toGenerateInput } from './request-input.ts';

export function controlInput(
  p: PrefillRequest | PullPrefixRequest | TierMoveRequest,
  runtime: WorkerRuntime,
  signal: AbortSignal,
): Promise<GenerateInput> {
  const asRequest = {
    ...(p.prompt === 'text'
      ? { prompt: 'text', text: p.text }
      : p.prompt === 'tokenIds'
        ? { prompt: 'tokenIds', tokenIds: p.tokenIds }
        : {}),
    messages: p.messages,
    sampling: null,
    tenant: p.tenant,
    sessionId: '',
    requestId: 'requestId' in p ? p.requestId : '',
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

/** The chunk keys of a control call's prompt under its tenant, as the tree and the routers key them. */
export function promptKeys(
  runtime: WorkerRuntime,
  tenant: string,
  tokens: readonly number[],
): BigUint64Array {
  return chunkKeys(
    { modelId: runtime.bundle.model.config.modelId, chunkTokens: runtime.cache.chunkTokens, salt: tenant },
    tokens,
  );
}
