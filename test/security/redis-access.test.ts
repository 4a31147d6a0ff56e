// Redis with a password, ACL users and TLS (issue 12, item 3), on private
// redis-servers. A worker Redis refuses (a wrong password, or an ACL user
// that may connect but not write) logs an error and stays not ready (gRPC
// health NOT_SERVING, /healthz 503), never registered; before, the ACL case
// served silently and never registered. With the right user, and over TLS
// with a client certificate, workers register and a router places on them.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CertificateFiles, clusterKeys, connectRedis } from '@chunkmesh/common';
import { JobClient } from '@chunkmesh/jobs';
import {
  healthCheck,
  RedisServer,
  startRouter,
  startWorker,
  TestPki,
  uniqueCluster,
  type WorkerProcess,
  waitFor,
} from '@chunkmesh/test-support';
import { complete } from '../router/cluster.ts';

const skip = process.env.REDIS_URL
  ? 'REDIS_URL is set: needs private redis-servers with passwords and TLS'
  : false;
const PASSWORD = 'default-password';
const USERS = [
  // what chunkmesh needs: its own keys, every command on them
  'chunkmesh on >chunkmesh-password ~cm:* +@all',
  // may connect and read, not write: registration fails
  'reader on >reader-password ~cm:* +@read +@connection +info',
];

async function notReady(worker: WorkerProcess): Promise<void> {
  // long enough for a few heartbeats (every ~333 ms with the tests' 1 s TTL)
  await sleep(2000);
  assert.equal(await healthCheck(worker.address), 'NOT_SERVING');
  assert.equal((await fetch(`http://127.0.0.1:${worker.metricsPort}/healthz`)).status, 503);
}

describe('Redis access: password, ACL users, TLS', { skip }, () => {
  let redis: RedisServer;
  const started: WorkerProcess[] = [];
  const worker = async (cluster: string, redisUrl: string, args: string[] = []) => {
    const w = await startWorker({ redisUrl, cluster, args });
    started.push(w);
    return w;
  };

  before(async () => {
    redis = await RedisServer.start({ password: PASSWORD, users: USERS });
  });
  after(async () => {
    await Promise.all(started.map((w) => w.kill()));
    await redis?.stop();
  });

  test('a wrong password: an error in the log, not ready, never registered', async () => {
    const cluster = uniqueCluster('wrong-password');
    const w = await worker(cluster, redis.urlWith('', 'not-the-password'));
    await notReady(w);
    const errors = w.stderr.split('\n').filter((l) => l.includes('"level":"error"'));
    assert.equal(errors.length, 1, `one error line, not one per retry:\n${w.stderr}`);
    assert.match(errors[0] as string, /redis refuses these credentials.*WRONGPASS/);
    const admin = connectRedis({ url: redis.urlWith('', PASSWORD) });
    try {
      assert.deepEqual(await admin.smembers(clusterKeys(cluster).workers), []);
    } finally {
      admin.disconnect();
    }
  });

  test('an ACL user that may connect but not write: an error in the log, not ready', async () => {
    const w = await worker(uniqueCluster('read-only'), redis.urlWith('reader', 'reader-password'));
    await notReady(w);
    assert.match(
      w.stderr,
      /"level":"error","msg":"heartbeat failed: redis refuses these credentials or this ACL user.*NOPERM/,
    );
  });

  test('the right ACL user: the worker registers, a router with the same user places on it', async () => {
    const cluster = uniqueCluster('acl');
    const url = redis.urlWith('chunkmesh', 'chunkmesh-password');
    const w = await worker(cluster, url);
    await waitFor(
      'SERVING once registered',
      async () => (await healthCheck(w.address)) === 'SERVING',
      15_000,
    );
    const router = await startRouter({ redisUrl: url, cluster });
    try {
      await waitFor(
        'the router to see the worker',
        async () => (await fetch(`${router.opsUrl}/readyz`)).status === 200,
      );
      const r = await complete(router, 'Once upon a time');
      assert.equal(r.workerId, w.workerId);
    } finally {
      await router.kill();
    }
  });
});

describe('Redis over TLS with client certificates', { skip }, () => {
  let redis: RedisServer;
  const pki = TestPki.create('redis');
  const started: WorkerProcess[] = [];

  before(async () => {
    const server = pki.issue('redis', { dns: ['localhost'], ip: ['127.0.0.1'] });
    redis = await RedisServer.start({ password: PASSWORD, tls: { ...server, requireClientCert: true } });
  });
  after(async () => {
    await Promise.all(started.map((w) => w.kill()));
    await redis?.stop();
    pki.cleanup();
  });

  test('rediss:// with the CA and a client certificate registers; without the certificate, an error and not ready', async () => {
    assert.match(redis.url, /^rediss:/);
    const url = redis.urlWith('', PASSWORD);
    const client = pki.issue('worker-client');
    const cluster = uniqueCluster('redis-tls');
    const good = await startWorker({
      redisUrl: url,
      cluster,
      args: [
        '--redis-tls-ca-file',
        client.caFile,
        '--redis-tls-cert-file',
        client.certFile,
        '--redis-tls-key-file',
        client.keyFile,
      ],
    });
    started.push(good);
    await waitFor('SERVING over TLS', async () => (await healthCheck(good.address)) === 'SERVING', 15_000);

    const noCert = await startWorker({
      redisUrl: url,
      cluster,
      args: ['--redis-tls-ca-file', client.caFile],
    });
    started.push(noCert);
    await notReady(noCert);
    assert.match(noCert.stderr, /"level":"error","msg":"redis TLS handshake failed/);
  });

  test('a rotated client certificate is what reconnections present, BullMQ connections included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-rotation-'));
    const rotated = TestPki.create('redis-rotated');
    const files = {
      certFile: join(dir, 'client.crt'),
      keyFile: join(dir, 'client.key'),
      caFile: join(dir, 'ca.crt'),
    };
    const place = (c: { certFile: string; keyFile: string }) => {
      copyFileSync(c.certFile, files.certFile);
      copyFileSync(c.keyFile, files.keyFile);
    };
    const first = pki.issue('jobs-client');
    place(first);
    copyFileSync(first.caFile, files.caFile); // the server's certificate stays pki's
    const tls = new CertificateFiles(files, { name: 'test Redis TLS', pollMs: 50 });
    const url = redis.urlWith('', PASSWORD);
    const admin = connectRedis({ url, name: 'test/admin', tls });
    const registry = connectRedis({ url, name: 'test/registry', tls });
    const jobs = new JobClient({ redis: { url, tls }, registry, cluster: uniqueCluster('rotation') });
    const bounded = <T>(p: Promise<T>, what: string) =>
      Promise.race([p, sleep(10_000).then(() => assert.fail(`${what}: no answer within 10 s`))]);
    try {
      assert.deepEqual(await bounded(jobs.list(), 'before the rotation'), []);
      // The client's certificate is rotated to one another CA signed, and the server trusts only
      // that CA from now on: only a reconnection that presents the new certificate gets through.
      const changed = new Promise<void>((resolve) => tls.onChange(() => resolve()));
      place(rotated.issue('jobs-client'));
      await bounded(changed, 'the reload');
      await admin.config('SET', 'tls-ca-cert-file', rotated.caFile);
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      assert.deepEqual(await bounded(jobs.list(), 'after the rotation'), []);
      assert.equal(await bounded(registry.ping(), 'the registry connection'), 'PONG');
    } finally {
      await jobs.close();
      registry.disconnect();
      admin.disconnect();
      tls.close();
      rotated.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
