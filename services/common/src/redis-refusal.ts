// Redis errors that say the server refuses us, as opposed to being away: a
// wrong password or ACL user, an ACL that denies a command or key, a TLS
// certificate either side rejects. Reconnecting will not fix these, so they
// are errors for an operator, not routine retries.

/** Redis replies naming an authentication or ACL refusal (WRONGPASS, NOAUTH, NOPERM; in a MULTI, after EXECABORT). */
const ACCESS_REPLY = /^(EXECABORT .*)?\b(WRONGPASS|NOAUTH|NOPERM)\b/;
/** Node's codes for certificate and handshake failures (DEPTH_ZERO_SELF_SIGNED_CERT, ERR_SSL_..., ERR_TLS_...). */
const TLS_CODE = /CERT|SSL|TLS|UNABLE_TO_(GET|VERIFY)/;

/** The connection an error happened on, when known. */
export interface RedisConnectionState {
  tls: boolean;
  /** Whether it had become ready (answered its first commands). */
  ready: boolean;
}

/** What to tell an operator about err when Redis refuses us; undefined for any other failure. */
export function redisRefusal(err: Error, connection?: RedisConnectionState): string | undefined {
  if (ACCESS_REPLY.test(err.message))
    return 'redis refuses these credentials or this ACL user (check the user and password in --redis-url and the ACL rules)';
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && TLS_CODE.test(code))
    return 'redis TLS handshake failed (check --redis-tls-ca-file, --redis-tls-cert-file and --redis-tls-key-file)';
  // With TLS 1.3 a Redis that requires a client certificate finishes the handshake, then drops a
  // client that sent none: the client mostly sees a reset, not the alert, before any reply. (A
  // Redis that goes away drops ready connections, and refuses new ones outright.)
  if (code === 'ECONNRESET' && connection?.tls && !connection.ready)
    return 'redis TLS handshake failed: the connection was reset before Redis answered, as a Redis that requires a client certificate does without one (check --redis-tls-cert-file and --redis-tls-key-file)';
  return undefined;
}
