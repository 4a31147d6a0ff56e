// The client side of the security suites: API key files and headers, and
// HTTPS calls that trust a test CA (fetch cannot be given a CA per call, so
// these go through node:https).
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { hashApiKey } from '@chunkmesh/router';
import * as grpc from '@grpc/grpc-js';
import type { HttpReply } from '../router/cluster.ts';

/** Writes a key file of `keys` (key -> the fields after its hash) into dir; returns its path. */
export function writeKeyFile(dir: string, keys: Record<string, string>, name = 'api-keys'): string {
  const path = join(dir, name);
  const lines = Object.entries(keys).map(([key, fields]) => `${hashApiKey(key)} ${fields}`);
  writeFileSync(path, `# written by a test\n${lines.join('\n')}\n`);
  return path;
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** gRPC call metadata carrying an API key. */
export function keyMetadata(key: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${key}`);
  return md;
}

/** An HTTPS request trusting `ca`; the reply as post() reads it, plus the server certificate's serial. */
export function httpsCall(
  url: string,
  o: { ca: Buffer; method?: string; body?: unknown; headers?: Record<string, string> },
): Promise<HttpReply & { serial: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method ?? (o.body === undefined ? 'GET' : 'POST'),
        ca: o.ca,
        agent: false,
        headers: { 'content-type': 'application/json', ...o.headers },
      },
      (res) => {
        const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          let body: unknown = null;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers, body, text, serial });
        });
      },
    );
    req.on('error', reject);
    req.end(o.body === undefined ? undefined : JSON.stringify(o.body));
  });
}
