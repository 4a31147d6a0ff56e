// The security settings router and worker share (README, "Security"): the
// mode, mutual TLS between them, and TLS to Redis (its ACL user and password
// go in the URL, redis://user:password@host). In production mode a process
// refuses to start while a protection is off; in development it starts and
// warns about each, loudly, once.
import { ConfigError, defineOptions } from './config.ts';
import type { Logger } from './log.ts';
import { CertificateFiles } from './tls/certificate-files.ts';

export const SECURITY_MODES = ['development', 'production'] as const;
export type SecurityMode = (typeof SECURITY_MODES)[number];

export const securityOptions = defineOptions({
  mode: {
    type: 'string',
    default: 'development',
    choices: SECURITY_MODES,
    help: 'production: refuse to start without mutual TLS (and, on the router, API keys and TLS on its front doors); development: start anyway and warn',
  },
  clusterCaFile: {
    type: 'string',
    help: 'cluster CA (PEM); with --cluster-cert-file and --cluster-key-file: mutual TLS between routers and workers',
  },
  clusterCertFile: {
    type: 'string',
    help: 'this process\u2019s certificate (PEM) signed by the cluster CA; a worker\u2019s names its worker id as a DNS SAN (reloaded on change)',
  },
  clusterKeyFile: { type: 'string', help: 'private key (PEM) of --cluster-cert-file' },
  redisTlsCaFile: {
    type: 'string',
    help: 'rediss:// only: CA (PEM) the Redis server\u2019s certificate must chain to (default: the system CAs)',
  },
  redisTlsCertFile: {
    type: 'string',
    help: 'rediss:// only: client certificate (PEM) for a Redis that requires one (tls-auth-clients)',
  },
  redisTlsKeyFile: { type: 'string', help: 'private key (PEM) of --redis-tls-cert-file' },
});

type SecurityConfig = {
  clusterCaFile?: string | undefined;
  clusterCertFile?: string | undefined;
  clusterKeyFile?: string | undefined;
  redisTlsCaFile?: string | undefined;
  redisTlsCertFile?: string | undefined;
  redisTlsKeyFile?: string | undefined;
};

/** A protection production mode requires: the flag that turns it on, and what is open without it. */
export interface Protection {
  on: boolean;
  flag: string;
  risk: string;
}

/** Production: a ConfigError naming every protection that is off. Development: one warning for each. */
export function enforceMode(mode: SecurityMode, protections: readonly Protection[], log: Logger): void {
  const off = protections.filter((p) => !p.on);
  if (mode === 'production' && off.length > 0) {
    throw new ConfigError(
      `--mode production refuses to start without: ${off.map((p) => `${p.flag} (${p.risk})`).join('; ')}`,
    );
  }
  for (const p of off) log.warn(`INSECURE (development mode): no ${p.flag}: ${p.risk}`);
}

/** Mutual TLS as a protection: the same flags on router and worker, a different risk without them. */
export function clusterTlsProtection(clusterTls: CertificateFiles | undefined, risk: string): Protection {
  return {
    on: clusterTls !== undefined,
    flag: '--cluster-ca-file, --cluster-cert-file, --cluster-key-file',
    risk,
  };
}

/** The cluster certificates (all three files, or none: undefined), loaded and watched. */
export function clusterTlsOf(cfg: SecurityConfig, log: Logger): CertificateFiles | undefined {
  const files = [cfg.clusterCaFile, cfg.clusterCertFile, cfg.clusterKeyFile];
  if (files.every((f) => !f)) return undefined;
  if (!files.every(Boolean))
    throw new ConfigError('--cluster-ca-file, --cluster-cert-file and --cluster-key-file go together');
  return new CertificateFiles(
    { caFile: cfg.clusterCaFile, certFile: cfg.clusterCertFile, keyFile: cfg.clusterKeyFile },
    { name: 'cluster TLS', log },
  );
}

/** The Redis TLS files, if any were given (then the URL must be rediss://), loaded and watched. */
export function redisTlsOf(cfg: SecurityConfig, redisUrl: string, log: Logger): CertificateFiles | undefined {
  const { redisTlsCaFile: caFile, redisTlsCertFile: certFile, redisTlsKeyFile: keyFile } = cfg;
  if (!caFile && !certFile && !keyFile) return undefined;
  if (!redisUrl.startsWith('rediss://'))
    throw new ConfigError('--redis-tls-* files are for TLS: give a rediss:// --redis-url');
  return new CertificateFiles({ caFile, certFile, keyFile }, { name: 'Redis TLS', log });
}
