// Which Redis errors are refusals an operator must fix (logged as errors) and which are routine outages.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { redisRefusal } from '../src/index.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

it('tells refused credentials, ACLs and certificates from a Redis that is away', () => {
  for (const message of [
    'WRONGPASS invalid username-password pair or user is disabled.',
    'NOAUTH Authentication required.',
    "NOPERM this user has no permissions to run the 'hset' command",
    "EXECABORT Transaction discarded because of: NOPERM this user has no permissions to run the 'exec' command",
  ])
    assert.match(
      String(redisRefusal(new Error(message))),
      /refuses these credentials or this ACL user/,
      message,
    );
  for (const code of [
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ])
    assert.match(String(redisRefusal(withCode('handshake', code))), /TLS handshake failed/, code);
  const reset = withCode('write ECONNRESET', 'ECONNRESET');
  assert.match(
    String(redisRefusal(reset, { tls: true, ready: false })),
    /reset before Redis answered.*--redis-tls-cert-file/,
    'a TLS connection reset before any reply',
  );
  assert.equal(
    redisRefusal(reset, { tls: true, ready: true }),
    undefined,
    'a ready connection dropped: an outage',
  );
  assert.equal(redisRefusal(reset, { tls: false, ready: false }), undefined, 'no TLS: an outage');
  assert.equal(redisRefusal(reset), undefined);
  for (const err of [
    withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'),
    new Error('Connection is closed.'),
    new Error('EXECABORT Transaction discarded because of previous errors.'),
    new Error('LOADING Redis is loading the dataset in memory'),
  ])
    assert.equal(redisRefusal(err), undefined, err.message);
});
