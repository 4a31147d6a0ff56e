// The router's own security settings: API keys and TLS on its front doors
// (the cluster mTLS and Redis TLS settings are shared with the worker:
// @chunkmesh/common securityOptions).
import { defineOptions } from '@chunkmesh/common';

export const frontDoorSecurityOptions = defineOptions({
  apiKeysFile: {
    type: 'string',
    help: 'API keys: one SHA-256-hashed key per line bound to a tenant (README, "API keys"; reloaded on change); unset: no authentication',
  },
  tlsCertFile: {
    type: 'string',
    help: 'certificate (PEM) for TLS on the HTTP and gRPC front doors, with --tls-key-file (reloaded on change); unset: plaintext',
  },
  tlsKeyFile: { type: 'string', help: 'private key (PEM) of --tls-cert-file' },
});
