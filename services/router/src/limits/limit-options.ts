// Default per-tenant limits on one router (a tenant's API keys may set their
// own: README, "API keys"), and how many tenants' state is kept.
import { defineOptions } from '@chunkmesh/common';

export const tenantLimitOptions = defineOptions({
  tenantRequestsPerSecond: {
    type: 'number',
    default: 0,
    min: 0,
    help: 'requests a tenant may start per second on this router (0: no limit)',
  },
  tenantTokensPerSecond: {
    type: 'number',
    default: 0,
    min: 0,
    help: 'prompt plus completion tokens a tenant may use per second on this router (0: no limit)',
  },
  tenantMaxStreams: {
    type: 'integer',
    default: 0,
    min: 0,
    help: 'requests a tenant may have open at once on this router (0: no limit)',
  },
  tenantLimitStates: {
    type: 'integer',
    default: 10_000,
    min: 1,
    help: 'tenants whose limit state is kept (the least recently seen are forgotten first)',
  },
});
