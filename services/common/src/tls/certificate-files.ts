// A certificate, its key and a CA bundle read from files and reloaded while
// the process runs: new connections use the new ones, open connections keep
// theirs. A reload that does not load (a half-copied file, a key that does
// not match the certificate) keeps the previous material and says so, so a
// botched rotation never takes a serving process down. It is also a grpc-js
// CertificateProvider, which is how gRPC servers and channels follow it.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { experimental } from '@grpc/grpc-js';
import { ConfigError } from '../config.ts';
import { watchFiles } from '../file-watch.ts';
import type { Logger } from '../log.ts';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export interface CertificatePaths {
  /** PEM certificate (chain) presented to peers; with keyFile. */
  certFile?: string;
  keyFile?: string;
  /** PEM CA bundle peers' certificates are checked against. */
  caFile?: string;
}

export interface CertificateMaterial {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
}

export interface CertificateFilesOptions {
  /** What the files are for, in log lines and errors ("cluster TLS", "Redis TLS", ...). */
  name: string;
  log?: Logger;
  /** How often the files are checked (default FILE_POLL_MS). */
  pollMs?: number;
}

function read(paths: CertificatePaths): CertificateMaterial {
  return {
    ...(paths.certFile ? { cert: readFileSync(paths.certFile) } : {}),
    ...(paths.keyFile ? { key: readFileSync(paths.keyFile) } : {}),
    ...(paths.caFile ? { ca: readFileSync(paths.caFile) } : {}),
  };
}

function same(a: CertificateMaterial, b: CertificateMaterial): boolean {
  const eq = (x?: Buffer, y?: Buffer) => (x && y ? x.equals(y) : x === y);
  return eq(a.cert, b.cert) && eq(a.key, b.key) && eq(a.ca, b.ca);
}

/** What a log line says about a certificate: whom it names and until when. */
function describe(m: CertificateMaterial): Record<string, string> {
  if (!m.cert) return {};
  const c = new X509Certificate(m.cert);
  return { subject: c.subject.replaceAll('\n', ', '), altNames: c.subjectAltName ?? '', validTo: c.validTo };
}

export class CertificateFiles implements experimental.CertificateProvider {
  private material: CertificateMaterial;
  private readonly stopWatching: () => void;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly changeListeners = new Set<(m: CertificateMaterial) => void>();

  /** Reads and checks the files now (a ConfigError when they do not load), then watches them. */
  constructor(
    private readonly paths: CertificatePaths,
    private readonly o: CertificateFilesOptions,
  ) {
    if (Boolean(paths.certFile) !== Boolean(paths.keyFile))
      throw new ConfigError(
        `${o.name}: a certificate file needs its key file and a key file its certificate`,
      );
    if (!paths.certFile && !paths.caFile) throw new ConfigError(`${o.name}: no certificate or CA file given`);
    try {
      this.material = CertificateFiles.load(paths);
    } catch (err) {
      throw new ConfigError(`${o.name}: ${(err as Error).message}`);
    }
    o.log?.info(`${o.name}: certificates loaded`, describe(this.material));
    const files = [paths.certFile, paths.keyFile, paths.caFile].filter((f): f is string => Boolean(f));
    this.stopWatching = watchFiles(files, () => this.reload(), o.pollMs);
  }

  /** Reads the files and checks that they make a TLS context (parseable PEM, a key that matches its certificate). */
  static load(paths: CertificatePaths): CertificateMaterial {
    const m = read(paths);
    createSecureContext(m);
    return m;
  }

  get current(): CertificateMaterial {
    return this.material;
  }

  /** Options for a Node TLS server or client (node:https, ioredis): the current material. */
  secureContextOptions(): SecureContextOptions {
    return { ...this.material };
  }

  /**
   * Client options whose cert, key and ca are read when used, not when made: ioredis copies its
   * `tls` options into each connection attempt (Object.assign), and a client's duplicates and
   * BullMQ's connections share the object, so every reconnection presents the current
   * certificates without anyone telling the client.
   */
  liveSecureContextOptions(): SecureContextOptions {
    const live: SecureContextOptions = {};
    for (const field of ['cert', 'key', 'ca'] as const) {
      if (this.material[field] === undefined) continue;
      Object.defineProperty(live, field, { enumerable: true, get: () => this.material[field] });
    }
    return live;
  }

  /** Called with the new material after each successful reload; returns the function that unsubscribes. */
  onChange(listener: (m: CertificateMaterial) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  close(): void {
    this.stopWatching();
    this.changeListeners.clear();
  }

  private reload(): void {
    let next: CertificateMaterial;
    try {
      next = CertificateFiles.load(this.paths);
    } catch (err) {
      this.o.log?.error(`${this.o.name}: reload failed; still using the previous certificates`, {
        error: (err as Error).message,
      });
      return;
    }
    if (same(next, this.material)) return;
    this.material = next;
    this.o.log?.info(`${this.o.name}: certificates reloaded`, describe(next));
    for (const l of this.caListeners) l(this.caUpdate());
    for (const l of this.identityListeners) l(this.identityUpdate());
    for (const l of this.changeListeners) l(next);
  }

  private caUpdate(): experimental.CaCertificateUpdate | null {
    return this.material.ca ? { caCertificate: this.material.ca } : null;
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate | null {
    const { cert, key } = this.material;
    return cert && key ? { certificate: cert, privateKey: key } : null;
  }

  // grpc-js CertificateProvider: listeners get the current material at once (as grpc-js's own
  // providers do, on the next tick) and every reload after.
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    process.nextTick(() => this.caListeners.has(listener) && listener(this.caUpdate()));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    process.nextTick(() => this.identityListeners.has(listener) && listener(this.identityUpdate()));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}
