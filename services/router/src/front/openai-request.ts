// OpenAI request bodies (/v1/completions, /v1/chat/completions) read into the
// router's own request: JSON types are checked here, ranges by the rules both
// front doors share (checkSampling, @chunkmesh/common). Anything wrong is an
// InvalidArgument naming the field, answered as HTTP 400 in OpenAI's error
// shape; an unknown model is NotFound (404).
import { checkSampling, InvalidArgument, NotFound, type Sampling } from '@chunkmesh/common';
import type { PromptInput } from '@chunkmesh/model';

export interface OpenAiRequest {
  prompt: PromptInput;
  sampling: Sampling;
  stream: boolean;
  includeUsage: boolean;
  tenant: string;
  sessionId: string;
}

type Body = Record<string, unknown>;

function num(body: Body, name: string, integer = false): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
    throw new InvalidArgument(`${name} must be ${integer ? 'an integer' : 'a number'}`, { param: name });
  return v;
}

function str(body: Body, name: string): string {
  const v = body[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new InvalidArgument(`${name} must be a string`, { param: name });
  return v;
}

function bool(body: Body, name: string): boolean | undefined {
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

function messagesOf(body: Body): PromptInput {
  const m = body.messages;
  if (!Array.isArray(m) || m.length === 0) {
    throw new InvalidArgument('messages must be a non-empty array', { param: 'messages' });
  }
  return {
    kind: 'chat',
    messages: m.map((msg, i) => {
      const o = msg as Body;
      if (typeof o !== 'object' || o === null || typeof o.role !== 'string' || o.role === '') {
        throw new InvalidArgument(`messages[${i}].role must be a non-empty string`, { param: 'messages' });
      }
      const content = Array.isArray(o.content)
        ? (o.content as Body[])
            .map((part) => (part?.type === 'text' && typeof part.text === 'string' ? part.text : ''))
            .join('')
        : o.content;
      if (typeof content !== 'string') {
        throw new InvalidArgument(`messages[${i}].content must be a string`, { param: 'messages' });
      }
      return { role: o.role, content };
    }),
  };
}

/** `text` is the body as received (for the seed's digits). */
export function parseOpenAiBody(
  raw: unknown,
  text: string,
  kind: 'completion' | 'chat',
  servedModel: string,
): OpenAiRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidArgument('request body must be a JSON object');
  }
  const body = raw as Body;
  const model = str(body, 'model');
  if (model === '') throw new InvalidArgument('model is required', { param: 'model' });
  if (model !== servedModel)
    throw new NotFound(`model '${model}' is not served here (serving '${servedModel}')`);
  if ((num(body, 'n', true) ?? 1) !== 1) throw new InvalidArgument('only n = 1 is supported', { param: 'n' });
  const maxTokensParam =
    kind === 'chat' && body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens';
  const streamOptions = body.stream_options as Body | undefined;
  const stream = bool(body, 'stream') ?? false;
  const sampling = checkSampling({
    // OpenAI's default; gRPC's is greedy (proto3's zero).
    temperature: num(body, 'temperature') ?? 1,
    topP: num(body, 'top_p'),
    topK: num(body, 'top_k', true),
    seed: seedOf(body, text),
    maxTokens: num(body, maxTokensParam, true),
    stop: stopOf(body),
    ignoreEos: bool(body, 'ignore_eos'),
  });
  return {
    prompt: kind === 'chat' ? messagesOf(body) : promptOf(body),
    sampling,
    stream,
    includeUsage: stream && streamOptions?.include_usage === true,
    tenant: str(body, 'tenant'),
    sessionId: str(body, 'session_id') || str(body, 'user'),
  };
}
