// Certificates for the security tests, made at test time with the openssl
// command (no private key is ever checked in): a CA, and certificates it
// signs for servers and clients with the names a test asks for. Every
// certificate is usable both ways (serverAuth and clientAuth), as the
// cluster's are (a worker serves, a router dials). Files live in a temporary
// directory removed by cleanup().
//
//   const pki = TestPki.create('cluster');
//   after(() => pki.cleanup());
//   const worker = pki.issue('worker-a', { dns: ['worker-a'] });  // worker.certFile, .keyFile, .caFile
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  /** The issuing CA's certificate. */
  caFile: string;
}

function openssl(args: readonly string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('openssl is not on the PATH (Debian: apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

/** An EC P-256 key and the request for a certificate naming `cn`. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export class TestPki {
  private n = 0;

  private constructor(
    readonly dir: string,
    readonly caFile: string,
    private readonly caKeyFile: string,
  ) {}

  /** A new CA in a new temporary directory; `name` goes into its subject and the directory name. */
  static create(name: string): TestPki {
    const dir = mkdtempSync(join(tmpdir(), `chunkmesh-pki-${name}-`));
    const caFile = join(dir, 'ca.crt');
    const caKeyFile = join(dir, 'ca.key');
    openssl([
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      caKeyFile,
      '-out',
      caFile,
      '-days',
      '2',
      '-subj',
      `/CN=chunkmesh test CA ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return new TestPki(dir, caFile, caKeyFile);
  }

  /** A certificate this CA signs, naming `cn` and the given DNS names and IP addresses as SANs. */
  issue(cn: string, names: { dns?: readonly string[]; ip?: readonly string[] } = {}): IssuedCertificate {
    const base = join(this.dir, `${++this.n}-${cn.replace(/[^A-Za-z0-9._-]/g, '_')}`);
    const [keyFile, csr, certFile, ext] = ['.key', '.csr', '.crt', '.ext'].map((x) => `${base}${x}`) as [
      string,
      string,
      string,
      string,
    ];
    openssl(['req', '-new', ...NEW_KEY, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${cn}`]);
    const san = [...(names.dns ?? []).map((d) => `DNS:${d}`), ...(names.ip ?? []).map((i) => `IP:${i}`)];
    writeFileSync(
      ext,
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        ...(san.length > 0 ? [`subjectAltName=${san.join(',')}`] : []),
      ].join('\n'),
    );
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      this.caFile,
      '-CAkey',
      this.caKeyFile,
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '1',
      '-extfile',
      ext,
      '-out',
      certFile,
    ]);
    return { certFile, keyFile, caFile: this.caFile };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
