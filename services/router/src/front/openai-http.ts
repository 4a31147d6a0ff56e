// The OpenAI-compatible HTTP front door: /v1/completions and
// /v1/chat/completions (JSON, or server-sent events ending with
// `data: [DONE]`), /v1/models and /v1/models/{id}; every route needs an API
// key when the router has them (auth/authenticator.ts), and a request runs as
// the key's tenant. usage.prompt_tokens_details.cached_tokens is the prefix
// hit the worker realised. Every reply carries x-request-id (the client's, or
// one made up), and a served one Server-Timing (serverTiming: arrival to
// forward, and its stages, in ms); every error is OpenAI's {"error": {...}}
// shape, with retry-after on 429 and 503 (status.ts). The ops endpoints
// (/metrics, /healthz, /readyz) are on the router's ops port, not here.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Final,
  HttpOnlyError,
  InvalidArgument,
  type Logger,
  NotFound,
  openAiErrorOf,
  sendOpenAiError,
} from '@chunkmesh/common';
import { type ModelBundle, toolCallFormat } from '@chunkmesh/model';
import type { Authenticator } from '../auth/authenticator.ts';
import type { Principal } from '../auth/principal.ts';
import type { RouterCore } from '../forwarding/router-core.ts';
import type { Deployment } from './deployment.ts';
import { type ChoicePart, OpenAiChoice } from './openai-choice.ts';
import { LogprobRenderer } from './openai-logprobs.ts';
import { type OpenAiRequest, parseOpenAiBody } from './openai-request.ts';
import { checkedPrompt } from './prompt-check.ts';

/** The header an admin key names the tenant it acts for in (the body's `tenant` also does). */
export const TENANT_HEADER = 'x-chunkmesh-tenant';

export interface OpenAiFrontOptions {
  /** The request path (the router core behind per-tenant limits). */
  core: Pick<RouterCore, 'route'>;
  auth: Authenticator;
  bundle: ModelBundle;
  deployment: Deployment;
  defaultMaxTokens: number;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  log: Logger;
}

const FINISH: Record<string, string> = {
  FINISH_REASON_STOP: 'stop',
  FINISH_REASON_LENGTH: 'length',
  FINISH_REASON_CANCELLED: 'stop',
  FINISH_REASON_ERROR: 'error',
  FINISH_REASON_TOOL_CALLS: 'tool_calls',
};

/** A client's request id is kept when it is short printable ASCII (it goes into logs and headers). */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\x21-\x7e]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * The request's JSON body, at most `limit` bytes (413 past it; 400 when it is not JSON). Read with
 * listeners rather than an async iterator: the iterator's set-up cost more than the rest of
 * reading a 10 KB body.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<{ json: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // The rest is left unread; the reply closes the connection, which cannot be reused.
      stop();
      req.pause();
      reject(
        new HttpOnlyError(413, 'payload_too_large', `request body over ${limit} bytes`, {
          connection: 'close',
        }),
      );
    };
    const onEnd = () => {
      stop();
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve({ json: JSON.parse(text), text });
      } catch {
        reject(new InvalidArgument('request body is not valid JSON'));
      }
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    // The client went away mid-body (no error emitted): nothing to answer.
    const onClose = () => onError(new Error('the request closed before its body ended'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export function methodNotAllowed(path: string, allow: string): HttpOnlyError {
  return new HttpOnlyError(405, 'method_not_allowed', `use ${allow.split(', ')[0]} for ${path}`, { allow });
}

/** A path segment (a model id in /v1/models/{id}, a job id); a malformed percent-encoding is taken as it is (and names nothing). */
export function decodedPathSegment(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

function usageOf(final: Final | undefined) {
  const u = final?.usage;
  const prompt = u?.promptTokens ?? 0;
  const completion = u?.completionTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    // computed/forked: chunkmesh's own, showing that n > 1 prefills the prompt once
    prompt_tokens_details: {
      cached_tokens: u?.cachedPromptTokens ?? 0,
      computed_tokens: u?.computedPromptTokens ?? 0,
      forked_tokens: u?.forkedPromptTokens ?? 0,
    },
  };
}

export function openAiHandler(o: OpenAiFrontOptions) {
  const models = `/v1/models/`;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const arrivedAt = performance.now();
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const fail = (err: unknown) => {
      const { status, body } = openAiErrorOf(err);
      if (status >= 500) o.log.warn('request failed', { path, requestId, error: (err as Error).message });
      if (!res.headersSent) sendOpenAiError(res, err);
      else if (!res.writableEnded) {
        res.write(`data: ${JSON.stringify(body)}\n\n`);
        res.end('data: [DONE]\n\n');
      }
    };
    let principal: Principal;
    try {
      principal = o.auth.authenticate(req.headers.authorization);
    } catch (err) {
      fail(err);
      return;
    }
    const get = path === '/v1/models' || path.startsWith(models);
    if (get && req.method !== 'GET' && req.method !== 'HEAD') {
      fail(methodNotAllowed(path, 'GET, HEAD'));
      return;
    }
    const card = o.deployment.modelCard;
    if (path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [card] });
      return;
    }
    if (path.startsWith(models)) {
      const id = decodedPathSegment(path.slice(models.length));
      if (id === card.id) sendJson(res, 200, card);
      else fail(new NotFound(`model '${id}' is not served here (serving '${card.id}')`));
      return;
    }
    const kind =
      path === '/v1/completions' ? 'completion' : path === '/v1/chat/completions' ? 'chat' : undefined;
    if (!kind) {
      fail(new NotFound(`no route for ${req.method} ${path}`));
      return;
    }
    if (req.method !== 'POST') {
      fail(methodNotAllowed(path, 'POST'));
      return;
    }
    const tenantHeader = req.headers[TENANT_HEADER];
    readBody(req, o.maxBodyBytes)
      .then(({ json, text }) => {
        const r = parseOpenAiBody(json, text, kind, card.id, toolCallFormat(o.bundle.chatTemplate));
        const tenant = o.auth.tenantFor(
          principal,
          r.tenant,
          typeof tenantHeader === 'string' ? tenantHeader : '',
        );
        return serve({ ...r, tenant }, kind, { requestId, arrivedAt }, res, o);
      })
      .catch(fail);
  };
}

/**
 * What the router added before a worker started, for the client, in milliseconds: `forward`, as
 * chunkmesh_router_forward_seconds observes it (arrival to the first worker's call started), then
 * its stages, which add up to it: `body` (reading, parsing and checking the request), `prompt` (the
 * chat template, tokenising, the prompt's checks), `place` (admission and the placement decision)
 * and `call` (starting the gRPC call). Arguments: performance.now() times, but `seconds`.
 */
function serverTiming(
  seconds: number,
  arrivedAt: number,
  parsedAt: number,
  promptedAt: number,
  placedAt: number,
): string {
  const ms = (x: number) => x.toFixed(3);
  const total = seconds * 1000;
  return (
    `forward;dur=${ms(total)}, body;dur=${ms(parsedAt - arrivedAt)}, prompt;dur=${ms(promptedAt - parsedAt)}, ` +
    `place;dur=${ms(placedAt - promptedAt)}, call;dur=${ms(arrivedAt + total - placedAt)}`
  );
}

/** `r.tenant` is the tenant the request runs as (the authenticator's verdict). */
async function serve(
  r: OpenAiRequest,
  kind: 'completion' | 'chat',
  { requestId, arrivedAt }: { requestId: string; arrivedAt: number },
  res: ServerResponse,
  o: OpenAiFrontOptions,
): Promise<void> {
  const parsedAt = performance.now();
  const checked = checkedPrompt(r.prompt, r.sampling, o.bundle, o.defaultMaxTokens);
  const promptedAt = performance.now();
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableEnded) abort.abort();
  });
  const events = o.core.route({
    promptTokens: checked.tokens,
    promptIds: checked.ids,
    door: 'http',
    arrivedAt,
    onForwarded: (seconds, placedAt) =>
      res.setHeader('server-timing', serverTiming(seconds, arrivedAt, parsedAt, promptedAt, placedAt)),
    sampling: { ...r.sampling, maxTokens: r.sampling.maxTokens || o.defaultMaxTokens },
    tenant: r.tenant,
    sessionId: r.sessionId,
    requestId,
    deadline: Date.now() + o.requestTimeoutMs,
    signal: abort.signal,
  });
  const head = {
    id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`,
    object: kind === 'chat' ? 'chat.completion' : 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: o.deployment.modelCard.id,
    system_fingerprint: o.deployment.fingerprint,
  };
  const renderer = new LogprobRenderer(o.bundle.tokenizer);
  const prefix = r.echo ? echoText(r.prompt, checked.tokens, o) : '';
  const choices = Array.from(
    { length: r.sampling.n },
    () =>
      new OpenAiChoice({
        kind,
        renderer,
        ...(r.parseTools ? { toolFormat: toolCallFormat(o.bundle.chatTemplate) } : {}),
        singleToolCall: r.singleToolCall,
        prefix,
      }),
  );
  const choiceAt = (i: number) => choices[i] as OpenAiChoice;

  if (!r.stream) {
    let final: Final | undefined;
    for await (const e of events) {
      if (e.type === 'delta') choiceAt(e.index).push(e.text, e.logprobs);
      else final = e.final;
    }
    // Which worker served it: for operators and tests, outside the OpenAI body.
    res.setHeader('x-chunkmesh-worker', final?.workerId ?? '');
    sendJson(res, 200, {
      ...head,
      choices: choices.map((c, index) => {
        c.end();
        const finish = c.finishReason(finishOf(final, index));
        if (kind === 'completion')
          return { index, text: c.content, finish_reason: finish, logprobs: c.logprobs() };
        const message = {
          role: 'assistant',
          content: c.toolCalls.length > 0 && c.content === '' ? null : c.content,
          ...(c.toolCalls.length > 0 ? { tool_calls: c.toolCalls.map(({ index: _, ...call }) => call) } : {}),
        };
        return { index, message, logprobs: c.logprobs(), finish_reason: finish };
      }),
      usage: usageOf(final),
    });
    return;
  }

  // Chunks as OpenAI sends them: usage only when asked for (null on every chunk, then one
  // chunk with no choices carrying it); the chat role in each choice's first delta; the finish
  // reasons in chunks of their own.
  const chunk = { ...head, object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion' };
  const usageField = r.includeUsage ? { usage: null } : {};
  const started = new Set<number>();
  const choiceChunk = (index: number, part: ChoicePart | undefined, finish: string | null) => {
    const first = !started.has(index);
    started.add(index);
    const logprobs = part?.logprobs ? (kind === 'chat' ? { content: part.logprobs } : part.logprobs) : null;
    if (kind === 'completion') return { index, text: part?.content ?? '', logprobs, finish_reason: finish };
    return {
      index,
      delta: {
        ...(first ? { role: 'assistant' } : {}),
        ...(part && (part.content !== '' || part.toolCalls.length === 0) ? { content: part.content } : {}),
        ...(part && part.toolCalls.length > 0 ? { tool_calls: part.toolCalls } : {}),
      },
      logprobs,
      finish_reason: finish,
    };
  };
  const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
  // Headers go out with the first event, so an error before it is still a plain HTTP error.
  let first = true;
  for await (const e of events) {
    if (first) {
      // (no connection header: Node's says keep-alive, or close while the router drains)
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      if (prefix !== '') {
        choices.forEach((_, i) => {
          send({
            ...chunk,
            choices: [choiceChunk(i, { content: prefix, toolCalls: [] }, null)],
            ...usageField,
          });
        });
      }
    }
    first = false;
    if (e.type === 'delta') {
      const part = choiceAt(e.index).push(e.text, e.logprobs);
      if (part.content !== '' || part.toolCalls.length > 0 || part.logprobs || !started.has(e.index))
        send({ ...chunk, choices: [choiceChunk(e.index, part, null)], ...usageField });
      continue;
    }
    choices.forEach((c, index) => {
      const part = c.end();
      if (part.content !== '' || part.toolCalls.length > 0)
        send({ ...chunk, choices: [choiceChunk(index, part, null)], ...usageField });
      const finish = c.finishReason(finishOf(e.final, index));
      send({
        ...chunk,
        choices: [choiceChunk(index, started.has(index) ? undefined : emptyPart, finish)],
        ...usageField,
      });
    });
    if (r.includeUsage) send({ ...chunk, choices: [], usage: usageOf(e.final) });
  }
  res.end('data: [DONE]\n\n');
}

const emptyPart: ChoicePart = { content: '', toolCalls: [] };

/** The worker's finish reason of choice `index` (choice 0's is also the final's own). */
function finishOf(final: Final | undefined, index: number): string {
  const reason = final?.choices.find((c) => c.index === index)?.finishReason ?? final?.finishReason ?? '';
  return FINISH[reason] ?? 'stop';
}

/** echo: the prompt as text (a token prompt decoded). */
function echoText(prompt: OpenAiRequest['prompt'], tokens: number[], o: OpenAiFrontOptions): string {
  return prompt.kind === 'text' ? prompt.text : o.bundle.tokenizer.decode(tokens);
}
