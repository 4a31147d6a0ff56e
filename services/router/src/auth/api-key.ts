// API keys: random secrets handed to clients; the router keeps only their
// SHA-256. The key carries 256 random bits, so an unsalted fast hash is as
// strong as the key (no dictionary to try), and a leaked key file or Secret
// gives no usable key. `chunkmesh api-key` makes a key and its file line.
import { createHash, randomBytes } from 'node:crypto';

/** What every chunkmesh API key starts with: recognisable in a leaked log or a secret scanner. */
export const API_KEY_PREFIX = 'cm-';

/** A new key: the prefix and 32 random bytes, base64url. */
export function newApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** How a key is stored in the key file: `sha256:` and the hex SHA-256 of its UTF-8 bytes. */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}
