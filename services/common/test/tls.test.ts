// TLS material that reloads, and the router-worker mutual TLS over real
// handshakes: a worker serving the cluster credentials answers only a caller
// with a cluster-CA certificate, and a caller using the cluster channel
// credentials reaches a worker only if the worker's certificate names the id
// the channel was made for.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { connect, type PeerCertificate } from 'node:tls';
import { TestPki, waitFor } from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import {
  CertificateFiles,
  ConfigError,
  checkWorkerIdentity,
  clusterChannelCredentials,
  clusterChannelOptions,
  clusterServerCredentials,
  createGenerationClient,
  createLogger,
  type GenerationClient,
  type GenerationServer,
  type InfoResponse,
  serveGeneration,
} from '../src/index.ts';

const cluster = TestPki.create('cluster');
const stranger = TestPki.create('stranger');
after(() => {
  cluster.cleanup();
  stranger.cleanup();
});
const lines: string[] = [];
const log = createLogger({}, { level: 'info', write: (l) => lines.push(l) });

/** A worker-like server on the cluster credentials whose Info says which worker answered; counts calls. */
async function serveWorker(files: CertificateFiles, workerId: string) {
  const calls = { n: 0 };
  const served = await serveGeneration({
    host: '127.0.0.1',
    port: 0,
    credentials: clusterServerCredentials(files),
    handlers: () => ({
      generate: (call) => call.end(),
      info: (_call, callback) => {
        calls.n++;
        callback(null, { workerId });
      },
    }),
  });
  return { ...served, calls, address: `127.0.0.1:${served.port}` };
}

function info(client: GenerationClient): Promise<InfoResponse> {
  return new Promise((resolve, reject) =>
    client.info({}, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, r) =>
      err || !r ? reject(err) : resolve(r),
    ),
  );
}

/** The certificate the server on `port` presents to a TLS client holding `client`'s certificate. */
function peerCertificate(port: number, client: { certFile: string; keyFile: string; caFile: string }) {
  const files = CertificateFiles.load(client);
  return new Promise<PeerCertificate>((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ...files,
      ALPNProtocols: ['h2'],
      servername: 'x',
      checkServerIdentity: () => undefined,
    });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('certificate files', () => {
  it('refuse to start without a matching key, reload on change, keep the last good on a bad change', async () => {
    const a = cluster.issue('a', { dns: ['a'] });
    const b = cluster.issue('b', { dns: ['b'] });
    assert.throws(
      () => new CertificateFiles({ certFile: a.certFile }, { name: 'test' }),
      (e) => e instanceof ConfigError && /needs its key file/.test(e.message),
    );
    assert.throws(
      () => new CertificateFiles({ certFile: a.certFile, keyFile: b.keyFile }, { name: 'test' }),
      (e) => e instanceof ConfigError && /^test: .*key values mismatch/.test(e.message),
    );
    const live = cluster.issue('live', { dns: ['live'] });
    const files = new CertificateFiles(live, { name: 'test', log, pollMs: 50 });
    after(() => files.close());
    const first = files.current.cert;
    const changes: string[] = [];
    files.onChange((m) => changes.push(m.cert?.toString() ?? ''));
    // a half-done rotation (new certificate, old key) is refused and the old pair kept
    copyFileSync(a.certFile, live.certFile);
    await waitFor(
      'the refused reload to be logged',
      () => lines.some((l) => l.includes('reload failed')),
      5000,
    );
    assert.ok(files.current.cert?.equals(first as Buffer));
    assert.deepEqual(changes, []);
    copyFileSync(a.keyFile, live.keyFile);
    await waitFor('the completed rotation to load', () => changes.length === 1, 5000);
    assert.ok(files.current.cert?.equals(CertificateFiles.load(a).cert as Buffer));
  });

  it('a worker identity is a DNS SAN equal to the worker id', () => {
    assert.equal(checkWorkerIdentity('w-1', { subjectaltname: 'DNS:w-1, IP Address:127.0.0.1' }), undefined);
    assert.match(
      String(checkWorkerIdentity('w-1', { subjectaltname: 'DNS:w-10' })),
      /names w-10, not worker w-1/,
    );
    assert.match(String(checkWorkerIdentity('w-1', { subjectaltname: 'URI:w-1' })), /names no DNS name/);
    assert.match(String(checkWorkerIdentity('w-1', {})), /names no DNS name/);
  });
});

describe('router-worker mutual TLS', () => {
  let router: CertificateFiles;
  let workerFiles: CertificateFiles;
  const workerCert = cluster.issue('worker-a', { dns: ['worker-a'] });
  let worker: GenerationServer & { calls: { n: number }; address: string };
  const clients: GenerationClient[] = [];
  const client = (credentials: grpc.ChannelCredentials, options: Partial<grpc.ChannelOptions> = {}) => {
    const c = createGenerationClient(worker.address, credentials, options);
    clients.push(c);
    return c;
  };

  before(async () => {
    router = new CertificateFiles(cluster.issue('router'), { name: 'router', pollMs: 50 });
    workerFiles = new CertificateFiles(workerCert, { name: 'worker', pollMs: 50 });
    worker = await serveWorker(workerFiles, 'worker-a');
  });
  after(() => {
    for (const c of clients) c.close();
    worker.server.forceShutdown();
    router.close();
    workerFiles.close();
  });

  it('a router reaches the worker its channel names', async () => {
    const r = await info(client(clusterChannelCredentials(router), clusterChannelOptions('worker-a')));
    assert.equal(r.workerId, 'worker-a');
  });

  it('a registry entry naming another worker id at this address gets no call through', async () => {
    const before = worker.calls.n;
    await assert.rejects(
      info(client(clusterChannelCredentials(router), clusterChannelOptions('worker-b'))),
      (e) => {
        assert.equal((e as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
        return true;
      },
    );
    assert.equal(worker.calls.n, before);
  });

  it('the worker refuses callers without a cluster certificate', async () => {
    const ca = CertificateFiles.load({ caFile: cluster.caFile }).ca as Buffer;
    const noCert = grpc.credentials.createSsl(ca, null, null, { checkServerIdentity: () => undefined });
    const outsider = stranger.issue('outsider');
    const outsiderFiles = CertificateFiles.load(outsider);
    const wrongCa = grpc.credentials.createSsl(ca, outsiderFiles.key, outsiderFiles.cert, {
      checkServerIdentity: () => undefined,
    });
    const before = worker.calls.n;
    for (const credentials of [grpc.credentials.createInsecure(), noCert, wrongCa]) {
      await assert.rejects(
        info(client(credentials, clusterChannelOptions('worker-a'))),
        (e) => (e as grpc.ServiceError).code === grpc.status.UNAVAILABLE,
      );
    }
    assert.equal(worker.calls.n, before, 'no call reached the handler');
  });

  it('a router refuses a server whose certificate another CA signed, even naming the right id', async () => {
    const impostorFiles = new CertificateFiles(
      { ...stranger.issue('worker-a', { dns: ['worker-a'] }), caFile: stranger.caFile },
      { name: 'impostor' },
    );
    const impostor = await serveWorker(impostorFiles, 'worker-a');
    after(() => {
      impostor.server.forceShutdown();
      impostorFiles.close();
    });
    const c = createGenerationClient(
      impostor.address,
      clusterChannelCredentials(router),
      clusterChannelOptions('worker-a'),
    );
    clients.push(c);
    await assert.rejects(info(c), (e) => (e as grpc.ServiceError).code === grpc.status.UNAVAILABLE);
    assert.equal(impostor.calls.n, 0);
  });

  it('a rotated worker certificate serves new connections without a restart', async () => {
    const probe = cluster.issue('probe');
    const before = await peerCertificate(worker.port, probe);
    const next = cluster.issue('worker-a', { dns: ['worker-a'] });
    copyFileSync(next.keyFile, workerCert.keyFile);
    copyFileSync(next.certFile, workerCert.certFile);
    await waitFor(
      'the worker to present the new certificate',
      async () => (await peerCertificate(worker.port, probe)).serialNumber !== before.serialNumber,
      5000,
    );
    const r = await info(client(clusterChannelCredentials(router), clusterChannelOptions('worker-a')));
    assert.equal(r.workerId, 'worker-a');
  });
});
