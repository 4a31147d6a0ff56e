// The OpenAI-compatible HTTP front door: /v1/completions and
// /v1/chat/completions (JSON, or server-sent events ending with
// `data: [DONE]`), /v1/models, /readyz, and the ops endpoints (/metrics,
// /healthz). usage.prompt_tokens_details.cached_tokens is the prefix hit the
// worker realised. Errors use OpenAI's {"error": {...}} shape.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Final,
  InvalidArgument,
  type Logger,
  NotFound,
  type OpsHandler,
  openAiErrorOf,
} from '@chunkmesh/common';
import { type ModelBundle, promptTokens } from '@chunkmesh/model';
import type { RouterCore } from '../forwarding/router-core.ts';
import type { Readiness } from '../index/readiness.ts';
import { type OpenAiRequest, parseOpenAiBody } from './openai-request.ts';

export interface OpenAiFrontOptions {
  core: RouterCore;
  bundle: ModelBundle;
  modelId: string;
  ops: OpsHandler;
  ready: () => Readiness;
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
};

class PayloadTooLarge extends Error {}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PayloadTooLarge(`request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new InvalidArgument('request body is not valid JSON');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function methodNotAllowed(res: ServerResponse, path: string, allow: string): void {
  res.writeHead(405, { allow, 'content-type': 'application/json' }).end(
    JSON.stringify({
      error: {
        message: `use ${allow.split(', ')[0]} for ${path}`,
        type: 'invalid_request_error',
        param: null,
        code: 'method_not_allowed',
      },
    }),
  );
}

function usageOf(final: Final | undefined) {
  const u = final?.usage;
  const prompt = u?.promptTokens ?? 0;
  const completion = u?.completionTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: u?.cachedPromptTokens ?? 0 },
  };
}

export function openAiHandler(o: OpenAiFrontOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (o.ops(req, res)) return;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const fail = (err: unknown) => {
      if (err instanceof PayloadTooLarge) {
        sendJson(res, 413, {
          error: {
            message: err.message,
            type: 'invalid_request_error',
            param: null,
            code: 'payload_too_large',
          },
        });
        return;
      }
      const { status, body } = openAiErrorOf(err);
      if (status >= 500) o.log.warn('request failed', { path, error: (err as Error).message });
      if (!res.headersSent) sendJson(res, status, body);
      else if (!res.writableEnded) {
        res.write(`data: ${JSON.stringify(body)}\n\n`);
        res.end('data: [DONE]\n\n');
      }
    };
    if (path === '/readyz') {
      const r = o.ready();
      sendJson(res, r.ready ? 200 : 503, r);
      return;
    }
    if (path === '/v1/models') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        methodNotAllowed(res, path, 'GET, HEAD');
        return;
      }
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: o.modelId, object: 'model', created: 0, owned_by: 'chunkmesh' }],
      });
      return;
    }
    const kind =
      path === '/v1/completions' ? 'completion' : path === '/v1/chat/completions' ? 'chat' : undefined;
    if (!kind) {
      fail(new NotFound(`no route for ${req.method} ${path}`));
      return;
    }
    if (req.method !== 'POST') {
      methodNotAllowed(res, path, 'POST');
      return;
    }
    readJson(req, o.maxBodyBytes)
      .then((body) => serve(parseOpenAiBody(body, kind, o.modelId), kind, res, o))
      .catch(fail);
  };
}

async function serve(
  r: OpenAiRequest,
  kind: 'completion' | 'chat',
  res: ServerResponse,
  o: OpenAiFrontOptions,
): Promise<void> {
  const tokens = promptTokens(r.prompt, o.bundle);
  if (tokens.length === 0)
    throw new InvalidArgument('prompt is empty', { param: kind === 'chat' ? 'messages' : 'prompt' });
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableEnded) abort.abort();
  });
  const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const events = o.core.route({
    promptTokens: tokens,
    sampling: {
      temperature: r.temperature,
      topP: r.topP,
      topK: r.topK,
      maxTokens: r.maxTokens || o.defaultMaxTokens,
      stop: r.stop,
      ignoreEos: r.ignoreEos,
      ...(r.seed !== undefined ? { seed: String(r.seed) } : {}),
    },
    tenant: r.tenant,
    sessionId: r.sessionId,
    requestId: id,
    deadline: Date.now() + o.requestTimeoutMs,
    signal: abort.signal,
  });
  const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
  const choice = (text: string, finish: string | null, first: boolean) =>
    kind === 'chat'
      ? {
          index: 0,
          delta: first ? { role: 'assistant', content: text } : { content: text },
          finish_reason: finish,
        }
      : { index: 0, text, finish_reason: finish, logprobs: null };

  if (!r.stream) {
    let text = '';
    let final: Final | undefined;
    for await (const e of events) {
      if (e.type === 'delta') text += e.text;
      else final = e.final;
    }
    const finish = FINISH[final?.finishReason ?? ''] ?? 'stop';
    sendJson(res, 200, {
      id,
      object,
      created,
      model: o.modelId,
      choices: [
        kind === 'chat'
          ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }
          : { index: 0, text, finish_reason: finish, logprobs: null },
      ],
      usage: usageOf(final),
      system_fingerprint: final?.workerId ?? null,
    });
    return;
  }

  // Headers go out with the first event, so an error before it is still a plain HTTP error.
  let first = true;
  const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
  for await (const e of events) {
    if (first)
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
    if (e.type === 'delta') {
      if (e.text !== '' || first)
        send({ id, object: chunkObject, created, model: o.modelId, choices: [choice(e.text, null, first)] });
    } else {
      const finish = FINISH[e.final.finishReason] ?? 'stop';
      send({
        id,
        object: chunkObject,
        created,
        model: o.modelId,
        choices: [choice('', finish, first)],
        usage: usageOf(e.final),
      });
    }
    first = false;
  }
  res.end('data: [DONE]\n\n');
}
