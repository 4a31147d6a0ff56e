// Bounds the `tenant` label of the router's token counters: tenants are
// caller-chosen strings, and one series per tenant forever would let callers
// grow every replica's registry and Prometheus without limit. The first
// `limit` tenants a replica sees keep their own label; later ones share
// OTHER_TENANTS. Requests without a tenant are NO_TENANT.
export const NO_TENANT = '(none)';
export const OTHER_TENANTS = '(other)';

export class TenantLabel {
  private readonly seen = new Set<string>();

  constructor(private readonly limit: number) {}

  of(tenant: string): string {
    if (tenant === '') return NO_TENANT;
    if (this.seen.has(tenant)) return tenant;
    if (this.seen.size >= this.limit) return OTHER_TENANTS;
    this.seen.add(tenant);
    return tenant;
  }
}
