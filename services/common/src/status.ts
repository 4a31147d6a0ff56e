// Every error-to-status decision: typed errors -> gRPC status, gRPC status ->
// HTTP status and the OpenAI error body. Services log the original error and
// answer with what this module says.

// The errors subpath, not the package root: the root loads the addon, and
// common (config, wire contract, Redis layout) must load no native code.
import { CapacityExhaustedError, InvalidArgumentError, UnknownSequenceError } from '@chunkmesh/native/errors';
import * as grpc from '@grpc/grpc-js';
import { InvalidArgument, StatusError } from './errors.ts';

export interface GrpcStatus {
  code: grpc.status;
  details: string;
}

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
  if (err instanceof StatusError) return { code: err.code, details: err.message };
  if (err instanceof InvalidArgumentError)
    return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  // Every pool chunk is pinned by running sequences: it frees up as they finish.
  if (err instanceof CapacityExhaustedError)
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message };
  // Callers never name sequences, so an unknown one is the engine's own bug.
  if (err instanceof UnknownSequenceError) return { code: grpc.status.INTERNAL, details: err.message };
  if (isGrpcCallError(err)) return { code: err.code, details: err.details };
  // Anything untyped is a bug whose message may expose internals; the service logs it.
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

/** The error to hand grpc-js: a unary callback's first argument, or a server stream's emit('error', ...). */
export function toServerError(err: unknown): grpc.ServerErrorResponse {
  const { code, details } = grpcStatusOf(err);
  return Object.assign(new Error(details), { code, details });
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

export function openAiErrorOf(err: unknown): { status: number; body: OpenAiErrorBody } {
  const { code, details } = grpcStatusOf(err);
  const http = httpStatusOf(code);
  return {
    status: http,
    body: {
      error: {
        message: details,
        type: openAiType(http),
        param: err instanceof InvalidArgument ? err.param : null,
        code: (grpc.status[code] ?? 'UNKNOWN').toLowerCase(),
      },
    },
  };
}
