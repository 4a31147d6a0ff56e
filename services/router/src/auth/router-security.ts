// The router's security settings, loaded and checked before anything starts
// (a ConfigError stops the start): the API key file, the front doors' and
// the cluster's certificates, Redis's TLS files, and the mode's verdict on
// what is missing.
import {
  CertificateFiles,
  type Config,
  clusterTlsOf,
  clusterTlsProtection,
  enforceMode,
  type Logger,
  redisTlsOf,
  type securityOptions,
} from '@chunkmesh/common';
import type { frontDoorSecurityOptions } from './auth-options.ts';
import { ApiKeyStore } from './key-store.ts';

type SecurityConfig = Config<typeof securityOptions> &
  Config<typeof frontDoorSecurityOptions> & { redisUrl: string };

export interface RouterSecurity {
  keys: ApiKeyStore | undefined;
  frontTls: CertificateFiles | undefined;
  clusterTls: CertificateFiles | undefined;
  redisTls: CertificateFiles | undefined;
  /** Stops watching the files. */
  close(): void;
}

export function loadRouterSecurity(cfg: SecurityConfig, log: Logger): RouterSecurity {
  const keys = cfg.apiKeysFile ? new ApiKeyStore(cfg.apiKeysFile, log) : undefined;
  const frontTls =
    cfg.tlsCertFile || cfg.tlsKeyFile
      ? new CertificateFiles(
          { certFile: cfg.tlsCertFile, keyFile: cfg.tlsKeyFile },
          { name: 'front-door TLS', log },
        )
      : undefined;
  const clusterTls = clusterTlsOf(cfg, log);
  enforceMode(
    cfg.mode,
    [
      {
        on: keys !== undefined,
        flag: '--api-keys-file',
        risk: 'anyone who reaches the front doors may call them as any tenant, and cached_tokens tells them what that tenant sent',
      },
      {
        on: frontTls !== undefined,
        flag: '--tls-cert-file, --tls-key-file',
        risk: 'API keys, prompts and completions cross the network in plaintext',
      },
      clusterTlsProtection(
        clusterTls,
        'prompts go in plaintext to whatever endpoint a registry entry in Redis names',
      ),
    ],
    log,
  );
  const redisTls = redisTlsOf(cfg, cfg.redisUrl, log);
  return {
    keys,
    frontTls,
    clusterTls,
    redisTls,
    close: () => {
      for (const watched of [keys, frontTls, clusterTls, redisTls]) watched?.close();
    },
  };
}
