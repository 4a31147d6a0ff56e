// Every error-to-status decision: typed errors -> gRPC status, gRPC status ->
// HTTP status and the OpenAI error body. Services log the original error and
// answer with what this module says.

import type { ServerResponse } from 'node:http';
// The errors subpath, not the package root: the root loads the addon, and
// common (config, wire contract, Redis layout) must load no native code.
import {
  CapacityExhaustedError,
  ChunkMismatchError,
  InvalidArgumentError,
  UnknownSequenceError,
} from '@chunkmesh/native/errors';
import * as grpc from '@grpc/grpc-js';
import { HttpOnlyError, InvalidArgument, ResourceExhausted, StatusError } from './errors.ts';

export interface GrpcStatus {
  code: grpc.status;
  details: string;
  /** The request field at fault (an InvalidArgument's), carried across gRPC in PARAM_METADATA. */
  param?: string;
  /** When a RESOURCE_EXHAUSTED caller may retry (a ResourceExhausted's), carried in RETRY_AFTER_METADATA. */
  retryAfterMs?: number;
}

/** Trailing metadata naming the request field an INVALID_ARGUMENT is about (`max_tokens`...). */
export const PARAM_METADATA = 'chunkmesh-error-param';
/** Trailing metadata of a RESOURCE_EXHAUSTED: milliseconds after which a retry can succeed. */
export const RETRY_AFTER_METADATA = 'retry-after-ms';

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

/** Errors a gRPC client call failed with: forwarded unchanged (a worker's status is the router's answer). */
function isGrpcCallError(err: unknown): err is grpc.ServiceError {
  return (
    err instanceof Error &&
    typeof (err as Partial<grpc.ServiceError>).code === 'number' &&
    typeof (err as Partial<grpc.ServiceError>).details === 'string' &&
    (err as Partial<grpc.ServiceError>).metadata instanceof grpc.Metadata
  );
}

export function grpcStatusOf(err: unknown): GrpcStatus {
  if (err instanceof InvalidArgument && err.param !== null)
    return { code: err.code, details: err.message, param: err.param };
  if (err instanceof ResourceExhausted && err.retryAfterMs !== undefined)
    return { code: err.code, details: err.message, retryAfterMs: err.retryAfterMs };
  if (err instanceof StatusError) return { code: err.code, details: err.message };
  if (err instanceof InvalidArgumentError)
    return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  // Every pool chunk is pinned by running sequences: it frees up as they finish.
  if (err instanceof CapacityExhaustedError)
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message };
  // Migrated KV that is not what its tokens and checksum say: nothing of it was kept.
  if (err instanceof ChunkMismatchError) return { code: grpc.status.DATA_LOSS, details: err.message };
  // Callers never name sequences, so an unknown one is the engine's own bug.
  if (err instanceof UnknownSequenceError) return { code: grpc.status.INTERNAL, details: err.message };
  if (isGrpcCallError(err)) {
    const param = err.metadata.get(PARAM_METADATA)[0];
    return { code: err.code, details: err.details, ...(typeof param === 'string' ? { param } : {}) };
  }
  // Anything untyped is a bug whose message may expose internals; the service logs it.
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

/** The error to hand grpc-js: a unary callback's first argument, or a server stream's emit('error', ...). */
export function toServerError(err: unknown): grpc.ServerErrorResponse {
  const { code, details, param, retryAfterMs } = grpcStatusOf(err);
  if (param === undefined && retryAfterMs === undefined)
    return Object.assign(new Error(details), { code, details });
  const metadata = new grpc.Metadata();
  if (param !== undefined) metadata.set(PARAM_METADATA, param);
  if (retryAfterMs !== undefined) metadata.set(RETRY_AFTER_METADATA, String(Math.ceil(retryAfterMs)));
  return Object.assign(new Error(details), { code, details, metadata });
}

// https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto
const HTTP_STATUS: Record<grpc.status, number> = {
  [grpc.status.OK]: 200,
  [grpc.status.CANCELLED]: 499,
  [grpc.status.UNKNOWN]: 500,
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.DEADLINE_EXCEEDED]: 504,
  [grpc.status.NOT_FOUND]: 404,
  [grpc.status.ALREADY_EXISTS]: 409,
  [grpc.status.PERMISSION_DENIED]: 403,
  [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.FAILED_PRECONDITION]: 400,
  [grpc.status.ABORTED]: 409,
  [grpc.status.OUT_OF_RANGE]: 400,
  [grpc.status.UNIMPLEMENTED]: 501,
  [grpc.status.INTERNAL]: 500,
  [grpc.status.UNAVAILABLE]: 503,
  [grpc.status.DATA_LOSS]: 500,
  [grpc.status.UNAUTHENTICATED]: 401,
};

export function httpStatusOf(code: grpc.status): number {
  return HTTP_STATUS[code] ?? 500;
}

/** OpenAI's error `type` is per HTTP status class, not per cause. */
function openAiType(http: number): string {
  if (http === 401) return 'authentication_error';
  if (http === 403) return 'permission_error';
  if (http === 429) return 'rate_limit_error';
  if (http < 500) return 'invalid_request_error';
  return 'server_error';
}

/** OpenAI's names for a timeout and a bad key; every other code is the gRPC status name in lower case. */
function openAiCode(code: grpc.status): string {
  if (code === grpc.status.DEADLINE_EXCEEDED) return 'timeout';
  if (code === grpc.status.UNAUTHENTICATED) return 'invalid_api_key';
  return (grpc.status[code] ?? 'UNKNOWN').toLowerCase();
}

/** Seconds a client should wait before retrying a 429 or 503 when nothing better is known. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Reply headers that steer clients' retries: retry-after on 429 and 503 (with retry-after-ms,
 * which the OpenAI SDKs read first, when the wait is known); on 504, the OpenAI SDKs'
 * x-should-retry: false, since the same request would run out of time again (they retry every
 * 5xx otherwise); on 401, the scheme to authenticate with.
 */
function replyHeaders(http: number, retryAfterMs: number | undefined): Record<string, string> {
  if ((http === 429 || http === 503) && retryAfterMs !== undefined) {
    const ms = Math.max(1, Math.ceil(retryAfterMs));
    return { 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(ms) };
  }
  if (http === 429 || http === 503) return { 'retry-after': String(RETRY_AFTER_SECONDS) };
  if (http === 504) return { 'x-should-retry': 'false' };
  if (http === 401) return { 'www-authenticate': 'Bearer' };
  return {};
}

export interface OpenAiError {
  status: number;
  headers: Record<string, string>;
  body: OpenAiErrorBody;
}

export function openAiErrorOf(err: unknown): OpenAiError {
  if (err instanceof HttpOnlyError) {
    return {
      status: err.httpStatus,
      headers: err.headers,
      body: {
        error: { message: err.message, type: openAiType(err.httpStatus), param: null, code: err.code },
      },
    };
  }
  const { code, details, param, retryAfterMs } = grpcStatusOf(err);
  const http = httpStatusOf(code);
  return {
    status: http,
    headers: replyHeaders(http, retryAfterMs),
    body: {
      error: { message: details, type: openAiType(http), param: param ?? null, code: openAiCode(code) },
    },
  };
}

/**
 * Answers an HTTP request with `err` in OpenAI's error shape: every endpoint's error reply; `extra` adds
 * fields beside `error` (e.g. /readyz's readiness).
 */
export function sendOpenAiError(
  res: ServerResponse,
  err: unknown,
  extra: Record<string, unknown> = {},
): OpenAiError {
  const e = openAiErrorOf(err);
  res
    .writeHead(e.status, { ...e.headers, 'content-type': 'application/json' })
    .end(JSON.stringify({ ...e.body, ...extra }));
  return e;
}
