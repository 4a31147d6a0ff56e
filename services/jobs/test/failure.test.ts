// Why a job attempt failed and whether BullMQ tries again: decided by the
// error's class, never by its message text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { UnrecoverableError } from 'bullmq';
import { JobPayloadError } from '../src/payloads.ts';
import {
  asProcessorError,
  FinalJobFailure,
  failureReason,
  isFinal,
  JobFailure,
} from '../src/runner/failure.ts';

const coded = (code: number) => Object.assign(new Error('grpc'), { code });

describe('job failures', () => {
  it('name their reason by class and code', () => {
    const unsupported = new FinalJobFailure('unsupported', 'unsupported: worker w1: no host tier');
    assert.ok(unsupported instanceof UnrecoverableError, 'BullMQ ends it at once');
    assert.deepEqual([failureReason(unsupported), isFinal(unsupported)], ['unsupported', true]);
    const payload = asProcessorError(new JobPayloadError('tenant must be a string'));
    assert.deepEqual([failureReason(payload), isFinal(payload)], ['invalid_payload', true]);
    assert.match(payload.message, /^invalid payload: tenant/);
    const gone = new JobFailure('worker_unavailable', 'worker w0 is not live');
    assert.deepEqual([failureReason(gone), isFinal(gone)], ['worker_unavailable', false]);
    assert.equal(failureReason(coded(status.UNAVAILABLE)), 'worker_unavailable');
    assert.equal(failureReason(coded(status.DEADLINE_EXCEEDED)), 'timeout');
    // message text says nothing: an error that merely reads like one is just an error, retried
    const lookalike = new Error('unsupported: something');
    assert.deepEqual([failureReason(lookalike), isFinal(lookalike)], ['error', false]);
  });
});
