// chunkmesh api-key: a new API key for a tenant, and the line that lets the
// router accept it (README, "API keys"). The key is printed once and stored
// nowhere; the key file holds only its SHA-256.
import { defineOptions } from '@chunkmesh/common';
import { keyFileLine, newApiKey } from '@chunkmesh/router';
import { parseCommand } from './command-options.ts';

export const apiKeyOptions = defineOptions({
  tenant: { type: 'string', help: 'the tenant the key acts for: its cache salt (required)' },
  role: {
    type: 'string',
    default: 'normal',
    choices: ['normal', 'admin'],
    help: 'normal: its tenant only; admin: may act for any tenant and call admin endpoints',
  },
  name: { type: 'string', help: 'a label for logs and errors (default: the start of its hash)' },
  requestsPerSecond: {
    type: 'number',
    min: 0,
    help: "the tenant's requests per second per router (0: none)",
  },
  tokensPerSecond: {
    type: 'number',
    min: 0,
    help: "the tenant's prompt plus completion tokens per second per router",
  },
  maxStreams: { type: 'integer', min: 0, help: "the tenant's requests open at once per router" },
});

export async function apiKeyCommand(argv: string[]): Promise<number> {
  const cfg = parseCommand(
    apiKeyOptions,
    {
      program: 'chunkmesh api-key',
      summary:
        'Makes an API key. Prints the key (give it to the client: it is not stored anywhere) and, on the next line, ' +
        'the line to add to the router\u2019s --api-keys-file (the key\u2019s SHA-256 and its tenant, role and limits).',
    },
    argv,
  );
  if (!cfg) return 0;
  if (!cfg.tenant) throw new Error('--tenant is required (see --help)');
  const key = newApiKey();
  const line = keyFileLine(key, {
    tenant: cfg.tenant,
    role: cfg.role,
    name: cfg.name,
    ...(cfg.requestsPerSecond !== undefined ? { requestsPerSecond: cfg.requestsPerSecond } : {}),
    ...(cfg.tokensPerSecond !== undefined ? { tokensPerSecond: cfg.tokensPerSecond } : {}),
    ...(cfg.maxStreams !== undefined ? { maxStreams: cfg.maxStreams } : {}),
  });
  process.stdout.write(`${key}\n${line}\n`);
  return 0;
}
