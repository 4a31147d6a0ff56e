// The router's access-control metrics: refused API keys and tenant requests
// by reason, and requests over a tenant's limits by limit and (bounded)
// tenant. Apart from RouterMetrics so that the counters live with the
// features they count.
import { Counter, type Registry } from 'prom-client';
import type { AuthFailure } from '../auth/authenticator.ts';
import type { LimitName } from '../limits/tenant-limiter.ts';
import { TENANT_LABEL_LIMIT } from './router-metrics.ts';
import { TenantLabel } from './tenant-label.ts';

export class AccessMetrics {
  private readonly authFailures: Counter<'reason'>;
  private readonly limited: Counter<'limit' | 'tenant'>;
  private readonly tenants = new TenantLabel(TENANT_LABEL_LIMIT);

  constructor(registry: Registry) {
    this.authFailures = new Counter({
      name: 'chunkmesh_router_auth_failures_total',
      help: 'Requests refused by authentication (missing_key, malformed_key, unknown_key: 401) or authorisation (other_tenant, not_admin: 403)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.limited = new Counter({
      name: 'chunkmesh_router_tenant_limited_total',
      help: `Requests refused (429) for a tenant's limit (requests, tokens, streams), by limit and tenant (the first ${TENANT_LABEL_LIMIT} seen; later ones are "(other)")`,
      labelNames: ['limit', 'tenant'],
      registers: [registry],
    });
  }

  authFailure(reason: AuthFailure): void {
    this.authFailures.inc({ reason });
  }

  tenantLimited(limit: LimitName, tenant: string): void {
    this.limited.inc({ limit, tenant: this.tenants.of(tenant) });
  }
}
