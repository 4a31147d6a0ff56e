// Seeded random requests for the fuzz suite: OpenAI HTTP requests (paths,
// methods, bodies valid and mangled, raw garbage) and gRPC Generate requests
// (every field, with NaN, infinities, huge and empty values). Mostly near a
// valid request, so most get past parsing and reach deeper checks; a valid
// request stays cheap (a few tokens).
import type { GenerateRequest, Init } from '@chunkmesh/common';

type Rand = () => number;

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  2,
  2.5,
  3,
  255,
  256,
  511,
  512,
  513,
  65535,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  1e308,
  -1e308,
  1e-308,
];
const WEIRD = [
  '',
  ' ',
  '\u0000',
  '\ufffd',
  '\ud800',
  '😀',
  '\u202e',
  '{}',
  'null',
  '<script>',
  '%00',
  '../..',
  '\r\n',
];

function string(r: Rand, max = 64): string {
  const n = r() < 0.05 ? int(r, 200, 5000) : int(r, 0, max);
  if (r() < 0.3) return pick(r, WEIRD).repeat(Math.max(1, Math.floor(n / 4)));
  return Array.from({ length: n }, () => String.fromCharCode(int(r, 1, r() < 0.9 ? 126 : 0xffff))).join('');
}

function number(r: Rand): number {
  return r() < 0.6 ? pick(r, NUMBERS) : (r() - 0.5) * 10 ** int(r, 0, 12);
}

/** Any JSON value, nested up to `depth`. */
function json(r: Rand, depth = 2): unknown {
  const k = int(r, 0, depth > 0 ? 6 : 4);
  if (k === 0) return null;
  if (k === 1) return r() < 0.5;
  if (k === 2) return number(r);
  if (k === 3) return int(r, 0, 600);
  if (k === 4) return string(r);
  if (k === 5) return Array.from({ length: int(r, 0, 4) }, () => json(r, depth - 1));
  return Object.fromEntries(Array.from({ length: int(r, 0, 3) }, () => [string(r, 8), json(r, depth - 1)]));
}

function tokenIds(r: Rand): unknown[] {
  const n = r() < 0.05 ? int(r, 500, 700) : int(r, 0, 40);
  return Array.from({ length: n }, () =>
    r() < 0.95 ? int(r, 0, 511) : pick(r, [...NUMBERS, -5, 1.5, '7', null]),
  );
}

const FIELDS = [
  'model',
  'prompt',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'stop',
  'stream',
  'stream_options',
  'n',
  'tenant',
  'user',
  'session_id',
  'ignore_eos',
  'logprobs',
  'unknown_field',
];

/** A value for a field, sometimes of the right type and near its range, sometimes not. */
function field(r: Rand, name: string): unknown {
  if (r() < 0.3) return json(r);
  switch (name) {
    case 'prompt':
      return pick(r, [string(r, 200), tokenIds(r), [string(r)], [tokenIds(r)], []]);
    case 'messages':
      return Array.from({ length: int(r, 0, 4) }, () =>
        r() < 0.8
          ? {
              role: pick(r, ['user', 'system', 'assistant', 'tool', '', string(r, 8)]),
              content: r() < 0.8 ? string(r, 100) : json(r),
            }
          : json(r),
      );
    case 'stop':
      return r() < 0.5 ? string(r, 20) : Array.from({ length: int(r, 0, 20) }, () => string(r, 300));
    case 'stream_options':
      return { include_usage: r() < 0.5 ? r() < 0.5 : json(r, 0) };
    case 'seed':
      return r() < 0.5 ? int(r, -1000, 1000) : number(r);
    case 'tenant':
    case 'user':
    case 'session_id':
      return string(r, 300);
    case 'stream':
    case 'ignore_eos':
      return r() < 0.8 ? r() < 0.5 : json(r, 0);
    default:
      return number(r);
  }
}

export interface HttpCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** undefined: no body. */
  body: string | Buffer | undefined;
}

/** One HTTP request: mostly a mangled completion or chat, else another path, method or raw garbage. */
export function httpCase(r: Rand, model: string): HttpCase {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (r() < 0.1) headers['content-type'] = pick(r, ['text/plain', 'application/x-www-form-urlencoded', '']);
  if (r() < 0.1) headers['x-request-id'] = string(r, 200).replace(/[^\x20-\x7e]/g, '');
  const kind = r();
  if (kind < 0.08) {
    const path = pick(r, [
      '/v1/models',
      `/v1/models/${model}`,
      '/v1/models/%ff%fe',
      '/readyz',
      '/healthz',
      '/metrics',
      '/',
      '/v1',
      `/${'a'.repeat(int(r, 1, 5000))}`,
      '/v1/completions?x=1',
      '/v1/embeddings',
    ]);
    return {
      method: pick(r, ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']),
      path,
      headers,
      body: undefined,
    };
  }
  const path = r() < 0.5 ? '/v1/completions' : '/v1/chat/completions';
  const method = r() < 0.95 ? 'POST' : pick(r, ['GET', 'PUT', 'DELETE', 'PATCH']);
  if (kind < 0.18) {
    const garbage = pick(r, [
      () => Buffer.from(Array.from({ length: int(r, 0, 300) }, () => int(r, 0, 255))),
      () => `{"model": "${model}", "prompt": `,
      () => '',
      () => `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
      () => JSON.stringify(json(r, 3)),
      () => `{"model":"${model}","prompt":"x","max_tokens":1e400}`,
      () => `{"model":"${model}","prompt":"x","seed":123456789012345678901234567890}`,
    ])();
    return { method, path, headers, body: garbage };
  }
  const body: Record<string, unknown> =
    path === '/v1/completions'
      ? { model, prompt: string(r, 60) || 'Once upon a time', max_tokens: int(r, 1, 4) }
      : { model, messages: [{ role: 'user', content: string(r, 60) }], max_tokens: int(r, 1, 4) };
  for (let i = int(r, 0, 3); i > 0; i--) {
    const name = pick(r, FIELDS);
    if (r() < 0.15) delete body[name];
    else body[name] = field(r, name);
  }
  // Keep valid requests cheap: a long completion is fuzzed rarely.
  if (typeof body.max_tokens === 'number' && body.max_tokens > 16 && r() < 0.9) body.max_tokens = 4;
  return { method, path, headers, body: JSON.stringify(body) };
}

function float(r: Rand): number {
  return pick(r, [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -1,
    0,
    0.5,
    1,
    1.5,
    2,
    3,
    1e30,
    -1e-30,
  ]);
}

/** One Generate request over gRPC, every field at random (proto types hold, values not). */
export function grpcCase(r: Rand): Init<GenerateRequest> {
  const req: Record<string, unknown> & Init<GenerateRequest> = {};
  const p = r();
  if (p < 0.45)
    req.tokenIds = {
      ids: Array.from({ length: r() < 0.03 ? int(r, 500, 3000) : int(r, 0, 40) }, () =>
        r() < 0.95 ? int(r, 0, 511) : int(r, 0, 2 ** 32 - 1),
      ),
    };
  else if (p < 0.75) req.text = string(r, 200);
  if (p >= 0.65)
    req.messages = Array.from({ length: int(r, 0, 4) }, () => ({
      role: pick(r, ['user', 'system', '', string(r, 8)]),
      content: string(r, 100),
    }));
  if (r() < 0.8) {
    req.sampling = {
      ...(r() < 0.5 ? { temperature: float(r) } : {}),
      ...(r() < 0.5 ? { topP: float(r) } : {}),
      ...(r() < 0.3 ? { topK: r() < 0.7 ? int(r, 0, 600) : 2 ** 32 - 1 } : {}),
      ...(r() < 0.3 ? { seed: String(BigInt(int(r, 0, 2 ** 30)) * BigInt(int(r, 1, 2 ** 30))) } : {}),
      ...(r() < 0.8 ? { maxTokens: r() < 0.9 ? int(r, 0, 4) : int(r, 0, 2 ** 32 - 1) } : {}),
      ...(r() < 0.3 ? { stop: Array.from({ length: int(r, 0, 20) }, () => string(r, 300)) } : {}),
      ...(r() < 0.2
        ? { stopTokenIds: Array.from({ length: int(r, 0, 5) }, () => int(r, 0, 2 ** 32 - 1)) }
        : {}),
      ...(r() < 0.2 ? { ignoreEos: r() < 0.5 } : {}),
    };
  }
  if (r() < 0.3) req.tenant = string(r, 300);
  if (r() < 0.3) req.sessionId = string(r, 300);
  if (r() < 0.2) req.requestId = string(r, 300);
  return req;
}
