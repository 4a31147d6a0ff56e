// A Generate request as the engine takes it: prompt tokenised (text, chat or
// ids), then the same parameter rules as the router's front doors
// (@chunkmesh/common request-rules) and the checks against the model. Every
// problem is an InvalidArgument naming the field, before any work is queued.
import { randomUUID } from 'node:crypto';
import { checkAgainstModel, checkTenancy, type GenerateRequest, InvalidArgument } from '@chunkmesh/common';
import {
  checkedToolSampling,
  type ModelBundle,
  promptInputOf,
  promptTokens as promptTokensOf,
} from '@chunkmesh/model';
import type { GenerateInput } from '../engine/engine-types.ts';
import { buildChoosers, seedState } from '../sampling/choosers.ts';
import type { ConstraintCompiler } from '../sampling/grammar/constraint-compiler.ts';

export interface RequestLimits {
  /** max_tokens when the request leaves it 0. */
  defaultMaxTokens: number;
}

/**
 * The engine's input, with one token chooser per sequence (n, or best_of candidates); a chat
 * whose tool_choice is required or a function decodes under that call's constraint.
 */
export async function toGenerateInput(
  req: GenerateRequest,
  bundle: ModelBundle,
  limits: RequestLimits,
  deadline: number | undefined,
  signal: AbortSignal,
  constraints: () => Promise<ConstraintCompiler>,
): Promise<GenerateInput> {
  const { config } = bundle.model;
  const prompt = promptInputOf(req);
  const promptTokens = promptTokensOf(prompt, bundle);
  if (promptTokens.length === 0) throw new InvalidArgument('prompt is empty', { param: 'prompt' });
  const s = checkedToolSampling(req, prompt, bundle.chatTemplate);
  checkTenancy(req);
  const maxTokens = checkAgainstModel(s, promptTokens, config, limits.defaultMaxTokens);
  const eosTokenIds = s.ignoreEos ? [] : config.eosTokenIds;
  const choosers = await buildChoosers(s, {
    promptTokens,
    endTokenIds: [...eosTokenIds, ...s.stopTokenIds],
    constraints,
  });
  return {
    requestId: req.requestId || randomUUID(),
    promptTokens,
    sampling: {
      temperature: s.temperature,
      topK: s.topK,
      topP: s.topP,
      ...(s.seed !== undefined ? { seed: seedState(BigInt(s.seed)) } : {}),
    },
    maxTokens,
    eosTokenIds,
    stopTokenIds: s.stopTokenIds,
    stopStrings: s.stop,
    salt: req.tenant,
    ...(deadline !== undefined ? { deadline } : {}),
    signal,
    choosers,
    ...(s.bestOf > s.n ? { returnBest: s.n } : {}),
  };
}
