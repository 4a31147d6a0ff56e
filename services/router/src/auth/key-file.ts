// The API key file (README, "API keys"): one key per line, `#` comments and
// blank lines ignored, space-separated fields:
//
//   sha256:<64 hex digits> tenant=<tenant> [role=normal|admin] [name=<label>]
//                          [requests-per-second=<n>] [tokens-per-second=<n>] [max-streams=<n>]
//
// The first field is the key's hash (api-key.ts), never the key. The tenant is
// the key's cache salt: a normal key acts for it alone. Limits are the
// tenant's: keys of one tenant that set a limit must agree on it. Any error
// rejects the whole file, naming the line.
import { ConfigError } from '@chunkmesh/common';
import { LIMIT_FIELDS, type TenantLimits } from '../limits/tenant-limits.ts';
import { hashApiKey } from './api-key.ts';
import type { Role } from './principal.ts';

export interface KeyEntry {
  /** `sha256:<hex>`, as hashApiKey writes it. */
  hash: string;
  tenant: string;
  role: Role;
  /** Shown in logs and errors in place of the key. */
  name: string;
}

export interface KeyFile {
  keys: KeyEntry[];
  /** Limits the keys set, per tenant (what they leave out is the router's default). */
  limits: Map<string, Partial<TenantLimits>>;
}

const HASH = /^sha256:[0-9a-f]{64}$/;
/** Printable ASCII without spaces: tenants and names are fields of a space-separated line. */
const WORD = /^[\x21-\x7e]{1,128}$/;
const ROLES: readonly Role[] = ['normal', 'admin'];

function parseLine(text: string, at: string, limits: KeyFile['limits']): KeyEntry {
  const [hash = '', ...fields] = text.split(/\s+/);
  if (!HASH.test(hash)) {
    throw new ConfigError(
      `${at}: the first field must be sha256:<64 lowercase hex digits>, the key's hash (never the key itself; chunkmesh api-key prints the line)`,
    );
  }
  const entry: Partial<KeyEntry> = { hash, role: 'normal', name: hash.slice(0, 15) };
  const own: Partial<TenantLimits> = {};
  for (const field of fields) {
    const eq = field.indexOf('=');
    const name = field.slice(0, eq);
    const value = field.slice(eq + 1);
    if (eq <= 0 || !WORD.test(value)) throw new ConfigError(`${at}: '${field}' is not name=value`);
    const limit = Object.hasOwn(LIMIT_FIELDS, name) ? LIMIT_FIELDS[name] : undefined;
    if (name === 'tenant' || name === 'name') entry[name] = value;
    else if (name === 'role') {
      if (!ROLES.includes(value as Role))
        throw new ConfigError(`${at}: role must be normal or admin, got '${value}'`);
      entry.role = value as Role;
    } else if (limit) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0 || (limit === 'maxStreams' && !Number.isInteger(n)))
        throw new ConfigError(
          `${at}: ${name} must be a number >= 0${limit === 'maxStreams' ? ' (whole)' : ''}`,
        );
      own[limit] = n;
    } else {
      throw new ConfigError(
        `${at}: unknown field '${name}' (known: tenant, role, name, ${Object.keys(LIMIT_FIELDS).join(', ')})`,
      );
    }
  }
  if (!entry.tenant) throw new ConfigError(`${at}: tenant=<tenant> is required`);
  const known = limits.get(entry.tenant) ?? {};
  for (const [k, v] of Object.entries(own) as [keyof TenantLimits, number][]) {
    if (known[k] !== undefined && known[k] !== v)
      throw new ConfigError(`${at}: tenant '${entry.tenant}' already has ${k} ${known[k]} from another key`);
    known[k] = v;
  }
  limits.set(entry.tenant, known);
  return entry as KeyEntry;
}

/** Parses a key file's text; `source` (its path) prefixes errors. */
export function parseKeyFile(text: string, source: string): KeyFile {
  const keys: KeyEntry[] = [];
  const limits: KeyFile['limits'] = new Map();
  const seen = new Set<string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = `${source}:${i + 1}`;
    const entry = parseLine(line, at, limits);
    if (seen.has(entry.hash)) throw new ConfigError(`${at}: this key is already listed`);
    seen.add(entry.hash);
    keys.push(entry);
  }
  return { keys, limits };
}

/** The key file line for `key`: its hash and the fields given, checked as the router will read it. */
export function keyFileLine(
  key: string,
  fields: { tenant: string; role?: Role; name?: string | undefined } & Partial<TenantLimits>,
): string {
  const parts = [hashApiKey(key), `tenant=${fields.tenant}`];
  if (fields.role && fields.role !== 'normal') parts.push(`role=${fields.role}`);
  if (fields.name) parts.push(`name=${fields.name}`);
  for (const [field, limit] of Object.entries(LIMIT_FIELDS)) {
    if (fields[limit] !== undefined) parts.push(`${field}=${fields[limit]}`);
  }
  const line = parts.join(' ');
  parseKeyFile(line, 'the new key');
  return line;
}
