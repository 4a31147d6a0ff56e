// The API keys the router accepts, from the key file (key-file.ts), reloaded
// when the file changes (a Kubernetes Secret update, a rewrite): keys added
// work, keys removed stop working, within FILE_POLL_MS. A file that does not
// parse keeps the keys already loaded (an error in the log); at start it
// stops the router.
import { readFileSync } from 'node:fs';
import { ConfigError, type Logger, watchFiles } from '@chunkmesh/common';
import type { TenantLimits } from '../limits/tenant-limits.ts';
import { hashApiKey } from './api-key.ts';
import { type KeyFile, parseKeyFile } from './key-file.ts';
import type { Principal } from './principal.ts';

function load(path: string): KeyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the API key file: ${(err as Error).message}`);
  }
  return parseKeyFile(text, path);
}

export class ApiKeyStore {
  private byHash = new Map<string, Principal>();
  private limits = new Map<string, Partial<TenantLimits>>();
  private readonly stopWatching: () => void;

  /** Loads the file (a ConfigError when it does not load) and watches it. */
  constructor(
    private readonly path: string,
    private readonly log: Logger,
    pollMs?: number,
  ) {
    this.apply(load(path));
    this.stopWatching = watchFiles([path], () => this.reload(), pollMs);
  }

  /**
   * The principal of a presented key, or undefined. Lookup is by the key's SHA-256: timing can
   * tell at most something about the digest of what the caller sent, never about a stored key.
   */
  lookup(key: string): Principal | undefined {
    return this.byHash.get(hashApiKey(key));
  }

  /** The limits the tenant's keys set (what they leave out is the router's default). */
  limitsOf(tenant: string): Partial<TenantLimits> | undefined {
    return this.limits.get(tenant);
  }

  close(): void {
    this.stopWatching();
  }

  private apply(file: KeyFile): void {
    this.byHash = new Map(file.keys.map((k) => [k.hash, { role: k.role, tenant: k.tenant, name: k.name }]));
    this.limits = file.limits;
    const tenants = new Set(file.keys.map((k) => k.tenant)).size;
    this.log.info('API keys loaded', { path: this.path, keys: file.keys.length, tenants });
    if (file.keys.length === 0)
      this.log.warn('the API key file lists no key: every request is refused', { path: this.path });
  }

  private reload(): void {
    try {
      this.apply(load(this.path));
    } catch (err) {
      this.log.error('API key file reload failed; the keys loaded before stay in force', {
        error: (err as Error).message,
      });
    }
  }
}
