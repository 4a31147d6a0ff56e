// OpenAI request bodies (/v1/completions, /v1/chat/completions) checked and
// turned into the router's own request. Anything wrong is an InvalidArgument
// naming the field, answered as HTTP 400 in OpenAI's error shape; an unknown
// model is NotFound (404).
import { InvalidArgument, NotFound } from '@chunkmesh/common';
import type { PromptInput } from '@chunkmesh/model';

export interface OpenAiRequest {
  prompt: PromptInput;
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed?: number;
  stop: string[];
  ignoreEos: boolean;
  stream: boolean;
  includeUsage: boolean;
  tenant: string;
  sessionId: string;
}

type Body = Record<string, unknown>;

function num(body: Body, name: string, lo: number, hi: number, fallback: number, integer = false): number {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new InvalidArgument(`${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}]`, {
      param: name,
    });
  }
  return v;
}

function str(body: Body, name: string): string {
  const v = body[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new InvalidArgument(`${name} must be a string`, { param: name });
  return v;
}

function stopOf(body: Body): string[] {
  const v = body.stop;
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string') || list.length > 16) {
    throw new InvalidArgument('stop must be a string or an array of at most 16 strings', { param: 'stop' });
  }
  return list as string[];
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

export function parseOpenAiBody(
  raw: unknown,
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
  if (num(body, 'n', 1, 1, 1, true) !== 1)
    throw new InvalidArgument('only n = 1 is supported', { param: 'n' });
  const maxTokens = num(
    body,
    kind === 'chat' && body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens',
    1,
    1_000_000,
    0,
    true,
  );
  const streamOptions = body.stream_options as Body | undefined;
  const seed =
    body.seed === undefined || body.seed === null ? undefined : num(body, 'seed', 0, 2 ** 53, 0, true);
  const stream = body.stream ?? false;
  if (typeof stream !== 'boolean') throw new InvalidArgument('stream must be a boolean', { param: 'stream' });
  return {
    prompt: kind === 'chat' ? messagesOf(body) : promptOf(body),
    maxTokens,
    temperature: num(body, 'temperature', 0, 2, 1),
    topP: num(body, 'top_p', 0, 1, 1),
    topK: num(body, 'top_k', 0, 1_000_000, 0, true),
    ...(seed !== undefined ? { seed } : {}),
    stop: stopOf(body),
    ignoreEos: body.ignore_eos === true,
    stream,
    includeUsage: streamOptions?.include_usage === true,
    tenant: str(body, 'tenant'),
    sessionId: str(body, 'session_id') || str(body, 'user'),
  };
}
