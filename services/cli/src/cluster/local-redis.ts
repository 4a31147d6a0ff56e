// A private redis-server, for `chunkmesh up` and for tests: on a free port,
// without persistence (so a restart comes back empty, like a lost Redis; or,
// with `appendOnlyDir`, with an fsync'd append-only file, so a restart comes
// back with every acknowledged write, like a crashed Redis that persists),
// killed and restarted on the same port for outage tests; optionally with a
// password, ACL users and TLS (security tests). With REDIS_URL set, that
// server is used instead and kill/restart and the security options are
// unavailable (tests that need them skip). Use unique cluster names per test:
// a shared server is shared. A private server goes with the process that
// started it, on Linux even when that process is SIGKILLed (launchCommand).
//
//   const redis = await RedisServer.start();
//   after(() => redis.stop());
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const children = new Set<ChildProcess>();
// Last resort if a test file dies before its teardown runs: never leave a server behind.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * How redis-server is started: on Linux through util-linux's setpriv with a parent-death signal,
 * so the server also goes when this process is killed outright (SIGKILL, the OOM killer), which
 * no exit handler sees; elsewhere (no setpriv) directly, with the exit handler above only.
 */
let launch: readonly string[] | undefined;
function launchCommand(): readonly string[] {
  // looked for on the first start, not when this module loads (most importers start no server)
  launch ??=
    process.platform === 'linux' && spawnSync('setpriv', ['--version']).status === 0
      ? ['setpriv', '--pdeathsig', 'TERM', '--', 'redis-server']
      : ['redis-server'];
  return launch;
}
const NOT_FOUND =
  '\nredis-server is not on the PATH: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL';

export class RestartUnsupported extends Error {
  override name = 'RestartUnsupported';
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** True once the server answers PING on the port. */
async function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    // A server with a password answers NOAUTH: up all the same.
    socket.on('close', () => resolve(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH')));
    socket.on('error', () => undefined);
  });
}

export interface RedisServerOptions {
  /** Persist every write (appendfsync always) to an append-only file in this directory. */
  appendOnlyDir?: string;
  /** requirepass: the default user's password. */
  password?: string;
  /** ACL rules, one user each, as after `user` in redis.conf: `alice on >secret ~cm:* +@all`. */
  users?: readonly string[];
  /** Serve TLS only to clients (url is rediss://); the plain port stays for this class's own probe. */
  tls?: {
    certFile: string;
    keyFile: string;
    /** CA client certificates are checked against. */
    caFile: string;
    /** Require a client certificate (tls-auth-clients yes). */
    requireClientCert: boolean;
  };
}

export class RedisServer {
  private child: ChildProcess | null = null;

  private constructor(
    readonly url: string,
    private readonly port: number | null,
    private readonly options: RedisServerOptions = {},
    private readonly tlsPort: number | null = null,
  ) {}

  /** Whether kill() and restart() work (not with REDIS_URL). */
  get restartable(): boolean {
    return this.port !== null;
  }

  /** The server's URL with a user and password in it (`redis://user:password@host:port`; user '' is the default user). */
  urlWith(user: string, password: string): string {
    const u = new URL(this.url);
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password);
    return u.toString();
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const external = process.env.REDIS_URL;
    if (external) {
      if (options.password || options.users || options.tls || options.appendOnlyDir)
        throw new Error(
          'REDIS_URL is set: a password, ACL users, TLS or persistence need a private redis-server',
        );
      return new RedisServer(external, null);
    }
    let lastError: unknown;
    // Another process can take the port between probing and binding it: try a few.
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const tlsPort = options.tls ? await freePort() : null;
      const url = tlsPort ? `rediss://127.0.0.1:${tlsPort}` : `redis://127.0.0.1:${port}`;
      const server = new RedisServer(url, port, options, tlsPort);
      try {
        await server.spawn();
        return server;
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  /** Crashes the server (SIGKILL): clients see the connection drop; its data is gone. */
  async kill(): Promise<void> {
    if (!this.restartable) throw new RestartUnsupported('REDIS_URL is set: cannot kill an external server');
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    children.delete(child);
  }

  /**
   * Freezes (SIGSTOP) or thaws (SIGCONT) the server: connections stay open and commands get no
   * reply while it is frozen, like a hung Redis or a partition without a reset.
   */
  freeze(frozen: boolean): void {
    if (!this.restartable) throw new RestartUnsupported('REDIS_URL is set: cannot freeze an external server');
    this.child?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /** A fresh server on the same port: empty, or with what its append-only file kept. */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  /** Ends a private server; leaves an external one alone. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.restartable) await this.kill();
  }

  private async spawn(): Promise<void> {
    const port = this.port as number;
    const { password, users, tls, appendOnlyDir } = this.options;
    const persistence = appendOnlyDir
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', appendOnlyDir]
      : ['--appendonly', 'no'];
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence];
    if (password) args.push('--requirepass', password);
    for (const user of users ?? []) args.push('--user', ...user.split(' '));
    if (tls) {
      args.push(
        '--tls-port',
        String(this.tlsPort),
        '--tls-cert-file',
        tls.certFile,
        '--tls-key-file',
        tls.keyFile,
      );
      args.push('--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', tls.requireClientCert ? 'yes' : 'no');
    }
    const [command, ...pre] = launchCommand() as [string, ...string[]];
    const child = spawn(command, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') output += NOT_FOUND;
    });
    // through setpriv, a missing redis-server is setpriv's exit 127
    child.on('exit', (code) => {
      if (code === 127 && command === 'setpriv') output += NOT_FOUND;
    });
    children.add(child);
    this.child = child;
    let output = '';
    child.on('error', (err) => {
      output += `\n${err.message}`;
    });
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) break;
      if (await pings(port)) return;
      await sleep(20);
    }
    await this.kill();
    throw new Error(`redis-server on port ${port} did not come up:\n${output}`);
  }
}
