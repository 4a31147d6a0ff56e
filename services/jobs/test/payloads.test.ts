// The one payload check (on add and on process) and content-derived job ids.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobPayloadError, jobIdOf, validatePayload } from '@chunkmesh/jobs';

describe('job payloads', () => {
  const prompt = { tokenIds: [1, 2, 3] };

  it('accepts each prompt form and fills the default tenant', () => {
    assert.deepEqual(validatePayload('prefix.prewarm', { prompt, workers: ['w0'] }), {
      tenant: '',
      prompt,
      workers: ['w0'],
    });
    assert.deepEqual(
      validatePayload('prefix.prefill', { workerId: 'w0', tenant: 't', prompt: { text: 'hi' } }),
      {
        workerId: 'w0',
        tenant: 't',
        prompt: { text: 'hi' },
      },
    );
    assert.deepEqual(validatePayload('kv.migrate', { prompt, source: 'w0', target: 'w1' }), {
      tenant: '',
      prompt,
      source: 'w0',
      target: 'w1',
    });
    // the tier moves: spill to host by default, restore, and reconcile of one worker or all
    assert.deepEqual(validatePayload('kv.spill', { workerId: 'w0', prompt }), {
      workerId: 'w0',
      tenant: '',
      prompt,
      tier: 'host',
    });
    assert.equal(validatePayload('kv.spill', { workerId: 'w0', prompt, tier: 'disk' }).tier, 'disk');
    assert.deepEqual(validatePayload('kv.restore', { workerId: 'w0', tenant: 't', prompt }), {
      workerId: 'w0',
      tenant: 't',
      prompt,
    });
    assert.deepEqual(validatePayload('index.reconcile', {}), {});
    assert.deepEqual(validatePayload('index.reconcile', { workerId: 'w1' }), { workerId: 'w1' });
    const messages = [{ role: 'user', content: 'hi' }];
    assert.deepEqual(validatePayload('prefix.prefill', { workerId: 'w0', prompt: { messages } }).prompt, {
      messages,
    });
  });

  it('names the field that is wrong', () => {
    const cases: [Parameters<typeof validatePayload>[0], unknown, RegExp][] = [
      ['prefix.prewarm', null, /prefix\.prewarm must be an object/],
      ['prefix.prewarm', { prompt, workers: [] }, /workers must list 1 to/],
      ['prefix.prewarm', { prompt, workers: ['w0', 'w0'] }, /lists a worker twice/],
      ['prefix.prewarm', { prompt, workers: ['a:b'] }, /workers\[0\] must be a worker id/],
      ['prefix.prewarm', { prompt: {}, workers: ['w0'] }, /exactly one of text, messages, tokenIds/],
      ['prefix.prewarm', { prompt: { text: '' }, workers: ['w0'] }, /prompt\.text is empty/],
      ['prefix.prewarm', { prompt: { tokenIds: [1.5] }, workers: ['w0'] }, /not a token id/],
      ['prefix.prewarm', { prompt: { tokenIds: [-1] }, workers: ['w0'] }, /not a token id/],
      [
        'prefix.prewarm',
        { prompt: { messages: [{ role: 'user' }] }, workers: ['w0'] },
        /content must be a string/,
      ],
      ['prefix.prewarm', { prompt, workers: ['w0'], tenant: 'x'.repeat(300) }, /tenant is over 256 bytes/],
      ['prefix.prewarm', { prompt, workers: ['w0'], extra: 1 }, /extra is not a field/],
      ['worker.drain', { workerId: 'w0' }, /epoch must be a decimal uint64/],
      ['worker.drain', { workerId: 'w0', epoch: '1', graceMs: 0 }, /graceMs must be an integer/],
      ['kv.migrate', { prompt, source: 'w0', target: 'w0' }, /target is the source/],
      ['kv.migrate', { prompt, source: 'w0' }, /target must be a worker id/],
      ['kv.migrate', { prompt, source: 'w0', target: 'w1', bytes: 'x' }, /bytes is not a field/],
      ['kv.migrate', { source: 'w0', target: 'w1' }, /prompt must be an object/],
      ['kv.spill', { workerId: 'w0', prompt, tier: 'device' }, /kv\.spill\.tier must be host or disk/],
      ['kv.spill', { prompt }, /kv\.spill\.workerId must be a worker id/],
      ['kv.spill', { workerId: 'w0', prompt: { text: '' } }, /kv\.spill\.prompt\.text is empty/],
      ['kv.restore', { workerId: 'w0', prompt, tier: 'host' }, /kv\.restore\.tier is not a field/],
      ['kv.restore', { workerId: 'w0' }, /kv\.restore\.prompt must be an object/],
      ['index.reconcile', { workerId: 'a:b' }, /index\.reconcile\.workerId must be a worker id/],
      ['index.reconcile', { all: true }, /index\.reconcile\.all is not a field/],
      ['index.reconcile', [], /index\.reconcile must be an object/],
    ];
    for (const [name, data, message] of cases)
      assert.throws(
        () => validatePayload(name, data),
        (e: Error) => e instanceof JobPayloadError && message.test(e.message),
        JSON.stringify(data),
      );
  });

  it('bounds what a job carries', () => {
    assert.throws(
      () =>
        validatePayload('prefix.prewarm', {
          prompt: { tokenIds: new Array(300_000).fill(1) },
          workers: ['w0'],
        }),
      /tokenIds must be a list of 1 to/,
    );
  });
});

describe('job ids', () => {
  it('are the same for the same request, whatever the key order, and differ otherwise', () => {
    const a = jobIdOf('prefix.prewarm', { tenant: 't', prompt: { text: 'x' }, count: 2 });
    const b = jobIdOf('prefix.prewarm', { count: 2, prompt: { text: 'x' }, tenant: 't' });
    assert.equal(a, b);
    assert.notEqual(a, jobIdOf('prefix.prewarm', { tenant: 't', prompt: { text: 'x' }, count: 3 }));
    assert.notEqual(a, jobIdOf('worker.drain', { tenant: 't', prompt: { text: 'x' }, count: 2 }));
    assert.notEqual(
      jobIdOf('prefix.prewarm', { workers: ['a', 'b'] }),
      jobIdOf('prefix.prewarm', { workers: ['b', 'a'] }),
    );
  });

  it('carry no colon (BullMQ refuses them)', () => {
    for (const payload of [{ text: 'a:b' }, { workerId: 'w:1' }, {}])
      assert.match(jobIdOf('prefix.prewarm', payload), /^prefix\.prewarm-[0-9a-f]{32}$/);
  });
});
