// The HTTP front door's server: HTTPS when the router has a certificate
// (following its files: new connections get the new certificate, open ones
// keep theirs), plain HTTP otherwise.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { CertificateFiles } from '@chunkmesh/common';

export async function listenHttp(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  o: { host: string; port: number; tls?: CertificateFiles | undefined },
): Promise<{ server: Server | TlsServer; port: number }> {
  const tls = o.tls;
  let server: Server | TlsServer;
  if (tls) {
    const secure = createTlsServer(tls.secureContextOptions(), handler);
    tls.onChange(() => secure.setSecureContext(tls.secureContextOptions()));
    server = secure;
  } else server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
