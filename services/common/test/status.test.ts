import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CapacityExhaustedError, InvalidArgumentError, UnknownSequenceError } from '@chunkmesh/native';
import { status as Code, Metadata } from '@grpc/grpc-js';
import {
  DeadlineExceeded,
  grpcStatusOf,
  HttpOnlyError,
  httpStatusOf,
  InvalidArgument,
  NotFound,
  openAiErrorOf,
  PARAM_METADATA,
  ResourceExhausted,
  toServerError,
  Unavailable,
} from '../src/index.ts';

describe('status mapping', () => {
  it('maps service and native errors to gRPC codes', () => {
    const cases: [unknown, Code][] = [
      [new InvalidArgument('bad'), Code.INVALID_ARGUMENT],
      [new ResourceExhausted('full'), Code.RESOURCE_EXHAUSTED],
      [new Unavailable('no workers'), Code.UNAVAILABLE],
      [new DeadlineExceeded('late'), Code.DEADLINE_EXCEEDED],
      [new NotFound('no such model'), Code.NOT_FOUND],
      [new InvalidArgumentError('token 99999 out of vocabulary'), Code.INVALID_ARGUMENT],
      [new CapacityExhaustedError('pool pinned'), Code.RESOURCE_EXHAUSTED],
      [new UnknownSequenceError('seq 3'), Code.INTERNAL],
    ];
    for (const [err, code] of cases) {
      assert.deepEqual(grpcStatusOf(err), { code, details: (err as Error).message });
    }
  });

  it('forwards a gRPC call failure unchanged and hides untyped errors', () => {
    const callError = Object.assign(new Error('14 UNAVAILABLE: worker gone'), {
      code: Code.UNAVAILABLE,
      details: 'worker gone',
      metadata: new Metadata(),
    });
    assert.deepEqual(grpcStatusOf(callError), { code: Code.UNAVAILABLE, details: 'worker gone' });
    assert.deepEqual(grpcStatusOf(new TypeError('x is undefined at /srv/app.js')), {
      code: Code.INTERNAL,
      details: 'internal error',
    });
    assert.deepEqual(grpcStatusOf('thrown string'), { code: Code.INTERNAL, details: 'internal error' });
  });

  it('builds errors grpc-js can send', () => {
    const e = toServerError(new ResourceExhausted('queue full'));
    assert.ok(e instanceof Error);
    assert.equal(e.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(e.details, 'queue full');
  });

  it('maps gRPC codes to HTTP statuses', () => {
    assert.equal(httpStatusOf(Code.OK), 200);
    assert.equal(httpStatusOf(Code.INVALID_ARGUMENT), 400);
    assert.equal(httpStatusOf(Code.NOT_FOUND), 404);
    assert.equal(httpStatusOf(Code.RESOURCE_EXHAUSTED), 429);
    assert.equal(httpStatusOf(Code.CANCELLED), 499);
    assert.equal(httpStatusOf(Code.UNAVAILABLE), 503);
    assert.equal(httpStatusOf(Code.DEADLINE_EXCEEDED), 504);
    assert.equal(httpStatusOf(Code.INTERNAL), 500);
  });

  it('renders the OpenAI error shape', () => {
    assert.deepEqual(
      openAiErrorOf(new InvalidArgument('max_tokens must be positive', { param: 'max_tokens' })),
      {
        status: 400,
        headers: {},
        body: {
          error: {
            message: 'max_tokens must be positive',
            type: 'invalid_request_error',
            param: 'max_tokens',
            code: 'invalid_argument',
          },
        },
      },
    );
    const busy = openAiErrorOf(new CapacityExhaustedError('pool pinned'));
    assert.equal(busy.status, 429);
    assert.deepEqual(busy.body.error, {
      message: 'pool pinned',
      type: 'rate_limit_error',
      param: null,
      code: 'resource_exhausted',
    });
    assert.equal(openAiErrorOf(new Unavailable('no workers')).body.error.type, 'server_error');
    assert.equal(openAiErrorOf(new Error('boom')).body.error.message, 'internal error');
  });

  it("keeps an error's param across gRPC, in trailing metadata", () => {
    const sent = toServerError(new InvalidArgument('too long', { param: 'max_tokens' }));
    assert.deepEqual(sent.metadata?.get(PARAM_METADATA), ['max_tokens']);
    // What the router's client call fails with when a worker sent that.
    const received = Object.assign(new Error('3 INVALID_ARGUMENT: too long'), {
      code: Code.INVALID_ARGUMENT,
      details: 'too long',
      metadata: sent.metadata,
    });
    assert.deepEqual(grpcStatusOf(received), {
      code: Code.INVALID_ARGUMENT,
      details: 'too long',
      param: 'max_tokens',
    });
    assert.equal(openAiErrorOf(received).body.error.param, 'max_tokens');
    assert.equal(
      toServerError(received).metadata?.get(PARAM_METADATA)[0],
      'max_tokens',
      'and on to the client',
    );
    assert.equal(toServerError(new Unavailable('gone')).metadata, undefined);
  });

  it('a timeout is 504 "timeout" that clients must not retry; 429 and 503 say when to retry', () => {
    const late = openAiErrorOf(new DeadlineExceeded('deadline exceeded after 3 tokens'));
    assert.equal(late.status, 504);
    assert.equal(late.body.error.code, 'timeout');
    assert.deepEqual(late.headers, { 'x-should-retry': 'false' });
    assert.deepEqual(openAiErrorOf(new ResourceExhausted('full')).headers, { 'retry-after': '1' });
    assert.deepEqual(openAiErrorOf(new Unavailable('no worker')).headers, { 'retry-after': '1' });
  });

  it('HTTP-only errors (405, 413) in the same shape', () => {
    const e = openAiErrorOf(new HttpOnlyError(405, 'method_not_allowed', 'use GET', { allow: 'GET' }));
    assert.deepEqual(e, {
      status: 405,
      headers: { allow: 'GET' },
      body: {
        error: { message: 'use GET', type: 'invalid_request_error', param: null, code: 'method_not_allowed' },
      },
    });
  });
});
