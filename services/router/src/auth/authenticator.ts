// The one place requests are authenticated and their tenant decided, for
// both front doors and the admin endpoints to come:
//
// - authenticate: the `Authorization: Bearer <key>` header (HTTP) or
//   `authorization` metadata (gRPC) -> the key's Principal; a missing or
//   unknown key is UNAUTHENTICATED (HTTP 401, code invalid_api_key). Without
//   a key store (development, no --api-keys-file) everyone is OPEN.
// - tenantFor: a normal key acts for its own tenant. A request naming another
//   tenant (`tenant` in the body, or x-chunkmesh-tenant) is refused with
//   PERMISSION_DENIED (HTTP 403) rather than silently served as the key's
//   tenant: the caller learns that it is misconfigured instead of getting
//   another tenant's cache behaviour than it asked for. Admin keys (and OPEN)
//   act for the tenant named, or their own when none is.
// - authenticateAdmin: the one check every admin endpoint (POST /admin/v1/...)
//   makes first: a key, and the admin role (or no keys configured at all).
import { InvalidArgument, PermissionDenied, Unauthenticated } from '@chunkmesh/common';
import type { ApiKeyStore } from './key-store.ts';
import { OPEN, type Principal } from './principal.ts';

const BEARER = /^bearer\s+(\S+)\s*$/i;

export type AuthFailure = 'missing_key' | 'malformed_key' | 'unknown_key' | 'other_tenant' | 'not_admin';

export class Authenticator {
  constructor(
    private readonly keys: ApiKeyStore | undefined,
    /** Counts refusals (a metric); the key is never passed on. */
    private readonly onFailure: (reason: AuthFailure) => void = () => undefined,
  ) {}

  authenticate(authorization: string | undefined): Principal {
    if (!this.keys) return OPEN;
    if (!authorization) {
      this.onFailure('missing_key');
      throw new Unauthenticated('no API key: send it as Authorization: Bearer <key>');
    }
    const key = BEARER.exec(authorization)?.[1];
    if (!key) {
      this.onFailure('malformed_key');
      throw new Unauthenticated('the Authorization header must be Bearer <key>');
    }
    const principal = this.keys.lookup(key);
    if (!principal) {
      this.onFailure('unknown_key');
      throw new Unauthenticated('invalid API key');
    }
    return principal;
  }

  /** The tenant a request runs as, from what it names (body, header; '' for none) and its principal. */
  tenantFor(principal: Principal, ...named: string[]): string {
    const asked = [...new Set(named.filter((t) => t !== ''))];
    if (asked.length > 1) {
      throw new InvalidArgument(`the request names two tenants (${asked.join(', ')})`, { param: 'tenant' });
    }
    const tenant = asked[0];
    if (tenant === undefined) return principal.tenant;
    if (principal.role === 'normal' && tenant !== principal.tenant) {
      this.onFailure('other_tenant');
      throw new PermissionDenied(
        `API key '${principal.name}' is bound to tenant '${principal.tenant}' and may not act for another tenant`,
      );
    }
    return tenant;
  }

  /** An admin endpoint's check: the principal, or UNAUTHENTICATED (no valid key) or PERMISSION_DENIED (not an admin key). */
  authenticateAdmin(authorization: string | undefined): Principal {
    const principal = this.authenticate(authorization);
    if (principal.role === 'normal') {
      this.onFailure('not_admin');
      throw new PermissionDenied(`API key '${principal.name}' is not an admin key`);
    }
    return principal;
  }
}
