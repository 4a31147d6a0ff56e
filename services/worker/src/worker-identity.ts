// A worker's cluster certificate must name its worker id (DNS SAN), or every
// router refuses it: checked at start (the worker will not serve under a
// certificate no router accepts) and after each reload (logged: the worker
// keeps serving its open connections while an operator fixes the files).
import { X509Certificate } from 'node:crypto';
import {
  type CertificateFiles,
  type CertificateMaterial,
  ConfigError,
  checkWorkerIdentity,
  type Logger,
} from '@chunkmesh/common';

function mismatch(m: CertificateMaterial, workerId: string): Error | undefined {
  if (!m.cert) return new Error('no certificate');
  return checkWorkerIdentity(workerId, { subjectaltname: new X509Certificate(m.cert).subjectAltName });
}

export function checkOwnIdentity(files: CertificateFiles, workerId: string, log: Logger): void {
  const wrong = mismatch(files.current, workerId);
  if (wrong) throw new ConfigError(`--cluster-cert-file: routers will refuse this worker: ${wrong.message}`);
  files.onChange((m) => {
    const now = mismatch(m, workerId);
    if (now)
      log.error('the reloaded cluster certificate does not name this worker; routers will refuse it', {
        error: now.message,
      });
  });
}
