// A Generate request as the engine takes it: prompt tokenised (text, chat or
// ids), then the same parameter rules as the router's front doors
// (@chunkmesh/common request-rules) and the checks against the model. Every
// problem is an InvalidArgument naming the field, before any work is queued.
import { randomUUID } from 'node:crypto';
import {
  checkAgainstModel,
  checkSampling,
  type GenerateRequest,
  InvalidArgument,
  samplingInputOf,
} from '@chunkmesh/common';
import { type ModelBundle, promptInputOf, promptTokens as promptTokensOf } from '@chunkmesh/model';
import type { GenerateInput } from '../engine/engine-types.ts';

export interface RequestLimits {
  /** max_tokens when the request leaves it 0. */
  defaultMaxTokens: number;
}

/** The sampler's 32-bit state from a 64-bit seed: both halves count (seeds below 2^32 keep their value). */
function seedState(seed: string): number {
  const s = BigInt(seed);
  return Number((s ^ (s >> 32n)) & 0xffffffffn);
}

export function toGenerateInput(
  req: GenerateRequest,
  bundle: ModelBundle,
  limits: RequestLimits,
  deadline: number | undefined,
  signal: AbortSignal,
): GenerateInput {
  const { config } = bundle.model;
  const promptTokens = promptTokensOf(promptInputOf(req), bundle);
  if (promptTokens.length === 0) throw new InvalidArgument('prompt is empty', { param: 'prompt' });
  const s = checkSampling(samplingInputOf(req.sampling));
  const maxTokens = checkAgainstModel(s, promptTokens, config, limits.defaultMaxTokens);
  return {
    requestId: req.requestId || randomUUID(),
    promptTokens,
    sampling: {
      temperature: s.temperature,
      topK: s.topK,
      topP: s.topP,
      ...(s.seed !== undefined ? { seed: seedState(s.seed) } : {}),
    },
    maxTokens,
    eosTokenIds: s.ignoreEos ? [] : config.eosTokenIds,
    stopTokenIds: s.stopTokenIds,
    stopStrings: s.stop,
    salt: req.tenant,
    ...(deadline !== undefined ? { deadline } : {}),
    signal,
  };
}
