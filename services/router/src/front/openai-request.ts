// OpenAI request bodies (/v1/completions, /v1/chat/completions) read into the
// router's own request: JSON types are checked here, ranges by the rules both
// front doors share (checkSampling, @chunkmesh/common). Anything wrong is an
// InvalidArgument naming the field, answered as HTTP 400 in OpenAI's error
// shape; an unknown model is NotFound (404).
import {
  checkSampling,
  checkTenancy,
  InvalidArgument,
  NotFound,
  type Sampling,
  type Tenancy,
} from '@chunkmesh/common';
import { type PromptInput, type ToolCallFormat, toolConstraint } from '@chunkmesh/model';
import { constraintOf, messagesOf, toolsOf } from './openai-structured.ts';
import { refuseUnsupported } from './openai-unsupported.ts';

export interface OpenAiRequest {
  prompt: PromptInput;
  sampling: Sampling;
  stream: boolean;
  includeUsage: boolean;
  tenant: string;
  sessionId: string;
  /** completions: the prompt's text comes before each choice's. */
  echo: boolean;
  /** chat: parse the output for tool calls. */
  parseTools: boolean;
  /** parallel_tool_calls false: at most one call per choice. */
  singleToolCall: boolean;
}

export type Body = Record<string, unknown>;

export function num(body: Body, name: string, integer = false): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
    throw new InvalidArgument(`${name} must be ${integer ? 'an integer' : 'a number'}`, { param: name });
  return v;
}

export function str(body: Body, name: string): string {
  const v = body[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new InvalidArgument(`${name} must be a string`, { param: name });
  return v;
}

export function bool(body: Body, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new InvalidArgument(`${name} must be a boolean`, { param: name });
  return v;
}

function stopOf(body: Body): string[] | undefined {
  const v = body.stop;
  if (v === undefined || v === null) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))
    throw new InvalidArgument('stop must be a string or an array of strings', { param: 'stop' });
  return list as string[];
}

/**
 * The seed exactly: JSON.parse reads numbers as doubles, which round int64 seeds past 2^53, so
 * its digits are taken from the body text. Inside JSON strings quotes are escaped, so `"seed":`
 * there is a key; the digits must also read back as the parsed number (a nested "seed" key
 * with another value is not the one).
 */
function seedOf(body: Body, text: string): bigint | undefined {
  const parsed = num(body, 'seed', true);
  if (parsed === undefined) return undefined;
  for (const m of text.matchAll(/"seed"\s*:\s*(-?\d+)(?![\d.eE])/g)) {
    if (Number(m[1]) === parsed) return BigInt(m[1] as string);
  }
  return BigInt(parsed);
}

/** The tenant, and the session: `session_id`, or OpenAI's `user` in its place. */
function tenancyOf(body: Body): Tenancy {
  const tenant = str(body, 'tenant');
  const sessionId = str(body, 'session_id');
  if (sessionId !== '') return checkTenancy({ tenant, sessionId });
  return checkTenancy({ tenant, sessionId: str(body, 'user') }, 'user');
}

function promptOf(body: Body): PromptInput {
  const p = body.prompt;
  if (typeof p === 'string') return { kind: 'text', text: p };
  if (Array.isArray(p) && p.length > 0 && p.every((t) => Number.isInteger(t) && t >= 0)) {
    return { kind: 'tokens', ids: p as number[] };
  }
  if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') return { kind: 'text', text: p[0] };
  throw new InvalidArgument('prompt must be a string, or an array of token ids (batches are not supported)', {
    param: 'prompt',
  });
}

/** completions: logprobs is the number of alternatives (0-5); chat: a boolean, with top_logprobs. */
function logprobsOf(body: Body, kind: 'completion' | 'chat'): { logprobs?: boolean; topLogprobs?: number } {
  if (kind === 'chat')
    return { logprobs: bool(body, 'logprobs'), topLogprobs: num(body, 'top_logprobs', true) };
  const top = num(body, 'logprobs', true);
  if (top === undefined) return {};
  if (top < 0 || top > 5)
    throw new InvalidArgument(`logprobs must be an integer in [0, 5], got ${top}`, { param: 'logprobs' });
  return { logprobs: true, topLogprobs: top };
}

function logitBiasOf(body: Body): Record<string, number> | undefined {
  const v = body.logit_bias;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new InvalidArgument('logit_bias must be an object of token ids to numbers', {
      param: 'logit_bias',
    });
  return v as Record<string, number>;
}

/** `text` is the body as received (for the seed's digits). */
export function parseOpenAiBody(
  raw: unknown,
  text: string,
  kind: 'completion' | 'chat',
  servedModel: string,
  toolFormat: ToolCallFormat,
): OpenAiRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidArgument('request body must be a JSON object');
  }
  const body = raw as Body;
  const model = str(body, 'model');
  if (model === '') throw new InvalidArgument('model is required', { param: 'model' });
  if (model !== servedModel)
    throw new NotFound(`model '${model}' is not served here (serving '${servedModel}')`);
  refuseUnsupported(body, kind);
  const maxTokensParam =
    kind === 'chat' && body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens';
  const streamOptions = body.stream_options as Body | undefined;
  const stream = bool(body, 'stream') ?? false;
  const prompt = kind === 'chat' ? messagesOf(body) : promptOf(body);
  const tools = kind === 'chat' ? toolsOf(body) : undefined;
  const toolCall = tools && toolConstraint(toolFormat, tools.tools, tools.toolChoice);
  const format = constraintOf(body);
  if (toolCall && format)
    throw new InvalidArgument('response_format cannot be combined with a required tool choice', {
      param: 'response_format',
    });
  const logprobs = logprobsOf(body, kind);
  const echo = kind === 'completion' && (bool(body, 'echo') ?? false);
  if (echo && logprobs.logprobs)
    throw new InvalidArgument("echo with logprobs (the prompt tokens' log-probabilities) is not supported", {
      param: 'echo',
    });
  const sampling = checkSampling({
    // OpenAI's default; gRPC's is greedy (proto3's zero).
    temperature: num(body, 'temperature') ?? 1,
    topP: num(body, 'top_p'),
    topK: num(body, 'top_k', true),
    seed: seedOf(body, text),
    maxTokens: num(body, maxTokensParam, true),
    stop: stopOf(body),
    ignoreEos: bool(body, 'ignore_eos'),
    presencePenalty: num(body, 'presence_penalty'),
    frequencyPenalty: num(body, 'frequency_penalty'),
    repetitionPenalty: num(body, 'repetition_penalty'),
    logitBias: logitBiasOf(body),
    minTokens: num(body, 'min_tokens', true),
    ...logprobs,
    n: num(body, 'n', true),
    bestOf: num(body, 'best_of', true),
    constraint: toolCall ?? format,
  });
  if (stream && sampling.bestOf > sampling.n)
    throw new InvalidArgument('best_of above n cannot be streamed', { param: 'best_of' });
  return {
    prompt: tools ? { ...prompt, ...tools } : prompt,
    sampling,
    echo,
    parseTools: tools !== undefined && tools.tools.length > 0 && tools.toolChoice !== 'none',
    singleToolCall: bool(body, 'parallel_tool_calls') === false,
    stream,
    includeUsage: stream && streamOptions?.include_usage === true,
    ...tenancyOf(body),
  };
}
