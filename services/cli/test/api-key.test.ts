// chunkmesh api-key: a fresh key and the key-file line the router reads for it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hashApiKey } from '@chunkmesh/router';
import { SOURCE_NODE_ARGS } from '../src/cluster/service-process.ts';

const COMMAND = fileURLToPath(new URL('../src/chunkmesh.ts', import.meta.url));
const run = (...args: string[]) =>
  promisify(execFile)(process.execPath, [...SOURCE_NODE_ARGS, COMMAND, 'api-key', ...args]);

it('prints a new key and the line holding its hash, tenant, role and limits', async () => {
  const { stdout } = await run(
    '--tenant',
    'acme',
    '--role',
    'admin',
    '--name',
    'acme-ops',
    '--max-streams',
    '4',
  );
  const [key, line, rest] = stdout.split('\n');
  assert.match(key ?? '', /^cm-[A-Za-z0-9_-]{43}$/);
  assert.equal(line, `${hashApiKey(key as string)} tenant=acme role=admin name=acme-ops max-streams=4`);
  assert.equal(rest, '');
  const again = await run('--tenant', 'acme');
  assert.notEqual(again.stdout.split('\n')[0], key, 'a new key each time');
  assert.match(again.stdout.split('\n')[1] ?? '', /^sha256:[0-9a-f]{64} tenant=acme$/);
});

it('refuses what the router would refuse', async () => {
  for (const [args, message] of [
    [[], /--tenant is required/],
    [['--tenant', 'two words'], /'words' is not name=value/],
    [['--tenant', 't', '--role', 'root'], /one of normal, admin/],
  ] as const) {
    const failed = await run(...args).then(
      () => assert.fail(`accepted ${args.join(' ')}`),
      (e: { stderr: string; code: number }) => e,
    );
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, message);
  }
});
