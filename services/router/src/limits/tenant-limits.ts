// What a tenant may use of one router (README, "Security"): requests started
// per second, tokens (prompt plus completion) per second, and requests open at
// once. 0 means no limit. Defaults come from the router's flags; a tenant's
// API keys may set its own.

export interface TenantLimits {
  requestsPerSecond: number;
  tokensPerSecond: number;
  maxStreams: number;
}

/** The key-file field names (`requests-per-second=10`), the same as the flags without `tenant-`. */
export const LIMIT_FIELDS: Readonly<Record<string, keyof TenantLimits>> = {
  'requests-per-second': 'requestsPerSecond',
  'tokens-per-second': 'tokensPerSecond',
  'max-streams': 'maxStreams',
};

export const UNLIMITED: TenantLimits = { requestsPerSecond: 0, tokensPerSecond: 0, maxStreams: 0 };
