// The typed error an OpenAI SDK call must fail with (the compat suites check status and param).
import assert from 'node:assert/strict';
import OpenAI from 'openai';

export async function apiError(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await call.then(
    () => assert.fail('expected an API error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.APIError, `an APIError: ${String(err)}`);
  return err;
}
