// Security by default in production mode: a router or worker with a
// protection off refuses to start (exit 2, naming each missing flag), as does
// any security configuration that cannot work. (Production mode with every
// protection on serves: forged-worker.test.ts runs its router and workers so.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { newApiKey } from '@chunkmesh/router';
import { startRouter, startWorker, TestPki, uniqueCluster } from '@chunkmesh/test-support';
import { writeKeyFile } from './secure-client.ts';

/** Rejects unless the service exits with code 2 before it is ready, its stderr matching every pattern. */
async function refusesToStart(start: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(start, (e: Error) => {
    assert.match(e.message, /exited before it was ready/);
    assert.match(e.message, /exited \(code 2,/);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('production mode and impossible security settings', () => {
  const pki = TestPki.create('mode');
  const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-mode-'));
  after(() => {
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  // never contacted: each case fails before connecting
  const redisUrl = 'redis://127.0.0.1:1';
  const cluster = uniqueCluster('mode');
  const router = (args: string[]) => startRouter({ redisUrl, cluster, args });
  const worker = (args: string[]) => startWorker({ redisUrl, cluster, args });
  const certs = pki.issue('worker-1', { dns: ['worker-1'] });
  const clusterFlags = [
    '--cluster-ca-file',
    certs.caFile,
    '--cluster-cert-file',
    certs.certFile,
    '--cluster-key-file',
    certs.keyFile,
  ];

  test('a production router names every protection that is off', async () => {
    await refusesToStart(
      router(['--mode', 'production']),
      /--mode production refuses to start without: --api-keys-file/,
      /--tls-cert-file, --tls-key-file \(API keys, prompts and completions cross the network in plaintext\)/,
      /--cluster-ca-file, --cluster-cert-file, --cluster-key-file/,
    );
    const keys = writeKeyFile(dir, { [newApiKey()]: 'tenant=t' });
    const front = pki.issue('front', { ip: ['127.0.0.1'] });
    await refusesToStart(
      router([
        '--mode',
        'production',
        '--api-keys-file',
        keys,
        '--tls-cert-file',
        front.certFile,
        '--tls-key-file',
        front.keyFile,
      ]),
      /refuses to start without: --cluster-ca-file, --cluster-cert-file, --cluster-key-file \(prompts go in plaintext/,
    );
  });

  test('a production worker needs the cluster certificates', async () => {
    await refusesToStart(worker(['--mode', 'production']), /refuses to start without: --cluster-ca-file/);
  });

  test('settings that cannot work stop the start, saying why', async () => {
    await refusesToStart(
      router(['--cluster-ca-file', certs.caFile]),
      /--cluster-ca-file, --cluster-cert-file and --cluster-key-file go together/,
    );
    await refusesToStart(
      router(['--tls-cert-file', certs.certFile]),
      /front-door TLS: a certificate file needs its key file/,
    );
    await refusesToStart(
      worker(['--redis-tls-ca-file', certs.caFile]),
      /--redis-tls-\* files are for TLS: give a rediss:\/\/ --redis-url/,
    );
    const bad = join(dir, 'bad-keys');
    writeFileSync(bad, 'cm-a-plaintext-key tenant=t\n');
    await refusesToStart(router(['--api-keys-file', bad]), /bad-keys:1: the first field must be sha256:/);
    await refusesToStart(router(['--api-keys-file', join(dir, 'absent')]), /cannot read the API key file/);
  });

  test('a worker whose cluster certificate does not name it will not serve', async () => {
    await refusesToStart(
      worker(['--worker-id', 'worker-2', ...clusterFlags]),
      /--cluster-cert-file: routers will refuse this worker: the certificate names worker-1, not worker worker-2/,
    );
  });
});
