// A Generate request as the engine takes it: prompt tokenised (text, chat or
// ids), limits checked against the model, sampling values checked. Every
// problem is an InvalidArgument naming the field, before any work is queued.
import { randomUUID } from 'node:crypto';
import { type GenerateRequest, InvalidArgument } from '@chunkmesh/common';
import { type ModelBundle, promptInputOf, promptTokens as promptTokensOf } from '@chunkmesh/model';
import type { GenerateInput } from '../engine/engine-types.ts';

export interface RequestLimits {
  /** max_tokens when the request leaves it 0. */
  defaultMaxTokens: number;
}

export function toGenerateInput(
  req: GenerateRequest,
  bundle: ModelBundle,
  limits: RequestLimits,
  deadline: number | undefined,
  signal: AbortSignal,
): GenerateInput {
  const { config } = bundle.model;
  const s = req.sampling;
  const promptTokens = promptTokensOf(promptInputOf(req), bundle);
  if (promptTokens.length === 0) throw new InvalidArgument('prompt is empty', { param: 'prompt' });
  const bad = promptTokens.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= config.vocabSize);
  if (bad >= 0) {
    throw new InvalidArgument(
      `token id ${promptTokens[bad]} at position ${bad} is outside the vocabulary [0, ${config.vocabSize})`,
      { param: 'token_ids' },
    );
  }
  const maxTokens = s?.maxTokens || limits.defaultMaxTokens;
  if (promptTokens.length + maxTokens > config.maxSeqLen) {
    throw new InvalidArgument(
      `prompt (${promptTokens.length} tokens) plus max_tokens (${maxTokens}) exceeds the model's context of ${config.maxSeqLen}`,
      { param: 'max_tokens' },
    );
  }
  const temperature = s?.temperature ?? 0;
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > 100) {
    throw new InvalidArgument(`temperature must be in [0, 100], got ${temperature}`, {
      param: 'temperature',
    });
  }
  const topP = s?.topP || 1;
  if (!(topP > 0 && topP <= 1))
    throw new InvalidArgument(`top_p must be in (0, 1], got ${topP}`, { param: 'top_p' });
  const topK = s?.topK ?? 0;
  if (topK > config.vocabSize) {
    throw new InvalidArgument(`top_k must be at most the vocabulary size ${config.vocabSize}`, {
      param: 'top_k',
    });
  }
  const stopTokenIds = s?.stopTokenIds ?? [];
  const badStop = stopTokenIds.find((t) => t >= config.vocabSize);
  if (badStop !== undefined) {
    throw new InvalidArgument(`stop token id ${badStop} is outside the vocabulary`, {
      param: 'stop_token_ids',
    });
  }
  const stop = (s?.stop ?? []).filter((x) => x.length > 0);
  if (stop.length > 16) throw new InvalidArgument('at most 16 stop strings', { param: 'stop' });
  return {
    requestId: req.requestId || randomUUID(),
    promptTokens,
    sampling: {
      temperature,
      topK,
      topP,
      ...(s?.seed !== undefined ? { seed: Number(BigInt(s.seed) & 0xffffffffn) } : {}),
    },
    maxTokens,
    eosTokenIds: s?.ignoreEos ? [] : config.eosTokenIds,
    stopTokenIds,
    stopStrings: stop,
    salt: req.tenant,
    ...(deadline !== undefined ? { deadline } : {}),
    signal,
  };
}
