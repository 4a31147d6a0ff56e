// gRPC TLS credentials that follow their certificate files: the front doors'
// TLS, and mutual TLS between routers and workers (docs/ARCHITECTURE.md,
// "Security model"). For mTLS both sides hold a certificate signed by the
// cluster CA. A worker accepts only callers presenting such a certificate; a
// router dials a worker only if the worker's certificate names that worker's
// id as a DNS subject alternative name (`DNS:<worker-id>`), so a registry
// entry in Redis cannot point a router at a process that lacks the worker's
// own certificate: a forged entry, or a real worker under another id, fails
// the handshake before any request is sent.
import type { PeerCertificate } from 'node:tls';
import { type ChannelCredentials, experimental, type ServerCredentials } from '@grpc/grpc-js';
import type { CertificateFiles } from './certificate-files.ts';

/**
 * Workers: serve with the worker's certificate and require a client certificate the cluster CA
 * signed. (grpc-js reads this function's first argument as the identity and its second as the
 * CA, whatever its declared names say; both are the same provider here.)
 */
export function clusterServerCredentials(files: CertificateFiles): ServerCredentials {
  return experimental.createCertificateProviderServerCredentials(files, files, true);
}

/** The error that fails a handshake unless the certificate names `workerId` as a DNS SAN; undefined when it does. */
export function checkWorkerIdentity(
  workerId: string,
  cert: Pick<PeerCertificate, 'subjectaltname'>,
): Error | undefined {
  const dnsNames = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  if (dnsNames.includes(workerId)) return undefined;
  return new Error(
    `the certificate names ${dnsNames.length > 0 ? dnsNames.join(', ') : 'no DNS name'}, not worker ${workerId}`,
  );
}

/**
 * Routers: present the router's certificate, trust only the cluster CA, and check the worker's
 * identity. One credentials object serves every worker: the id to check travels as each channel's
 * target name (clusterChannelOptions), which grpc-js hands to checkServerIdentity.
 */
export function clusterChannelCredentials(files: CertificateFiles): ChannelCredentials {
  return experimental.createCertificateProviderChannelCredentials(files, files, {
    checkServerIdentity: checkWorkerIdentity,
  });
}

/** Channel options naming the worker a channel must reach (its TLS server name and identity check). */
export function clusterChannelOptions(workerId: string): { 'grpc.ssl_target_name_override': string } {
  return { 'grpc.ssl_target_name_override': workerId };
}

/** Front doors: TLS with the server's certificate, no client certificate asked for. */
export function serverTlsCredentials(files: CertificateFiles): ServerCredentials {
  // The identity provider first (see clusterServerCredentials), no CA provider.
  return experimental.createCertificateProviderServerCredentials(files, null, false);
}
