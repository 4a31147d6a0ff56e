// chunkmesh services as child processes (for `chunkmesh up` and for tests):
// spawn `node <entry> ...args` (a built .js entry on plain node, a .ts source
// through tsx), wait for the one JSON line
// {"event":"ready",...} it prints on stdout when serving, keep the tail of its
// stderr for failure messages, stop it with SIGTERM (awaiting its exit code)
// and, whatever happens, kill it before this process exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../paths.ts';

// Resolved as imports are: the build (dist/main.js) under plain node, the
// sources (src/main.ts) under the chunkmesh-source condition, as in the tests.
export const WORKER_MAIN = fileURLToPath(import.meta.resolve('@chunkmesh/worker/main'));
export const ROUTER_MAIN = fileURLToPath(import.meta.resolve('@chunkmesh/router/main'));
export const JOBS_MAIN = fileURLToPath(import.meta.resolve('@chunkmesh/jobs/main'));

/**
 * How node runs TypeScript sources: through tsx, with the chunkmesh-source
 * condition so that their imports of other packages resolve to sources too.
 * Built entries (.js) run on plain node.
 */
export const SOURCE_NODE_ARGS: readonly string[] = ['--conditions=chunkmesh-source', '--import', 'tsx'];

const children = new Set<ChildProcess>();
// Last resort if the parent dies before its teardown runs: never leave a process behind.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface ServiceProcessOptions {
  /** Script to run (a .ts one with SOURCE_NODE_ARGS), absolute or relative to the repository root. */
  entry: string;
  args?: readonly string[];
  /** Added to (and overriding) this process's environment and CHUNKMESH_PARENT_PID (this process). */
  env?: Record<string, string | undefined>;
  /** How long to wait for the ready line; default 30 s. */
  readyTimeoutMs?: number;
  /** Shown in failure messages; default the entry's file name. */
  name?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The fields of the ready line; services add their own (workerId, grpcPort, metricsPort, ...). */
export type ReadyLine = { event: 'ready' } & Record<string, unknown>;

const TAIL = 8000;

export class ServiceProcess {
  readonly exited: Promise<Exit>;
  private stderrTail = '';
  private stdoutTail = '';
  private exit: Exit | null = null;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        children.delete(child);
        resolve(this.exit);
      });
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-TAIL);
    });
  }

  /** Spawns the service and resolves with it and its ready line once it serves. */
  static async start(o: ServiceProcessOptions): Promise<{ proc: ServiceProcess; ready: ReadyLine }> {
    const entry = o.entry.startsWith('/') ? o.entry : join(REPO_ROOT, o.entry);
    if (!existsSync(entry)) throw new Error(`${entry} does not exist: run npm run build`);
    const nodeArgs = entry.endsWith('.ts') ? SOURCE_NODE_ARGS : [];
    const child = spawn(process.execPath, [...nodeArgs, entry, ...(o.args ?? [])], {
      cwd: REPO_ROOT,
      // CHUNKMESH_PARENT_PID: the service exits on its own if this process dies without stopping it
      // (services/common parent-watch), so no service outlives a killed `chunkmesh up` or test run.
      env: { ...process.env, CHUNKMESH_PARENT_PID: String(process.pid), ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const proc = new ServiceProcess(o.name ?? entry.split('/').pop() ?? entry, child);
    try {
      const ready = await proc.waitReady(o.readyTimeoutMs ?? 30_000);
      return { proc, ready };
    } catch (err) {
      await proc.kill();
      throw err;
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last few KB of stderr (the service's log), for assertion messages. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** Exit code and signal once it has exited, else null. */
  get exitStatus(): Exit | null {
    return this.exit;
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** Sends a signal if still running. */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** Resolves with the exit status, or rejects (naming the stderr tail) after timeoutMs. */
  async waitExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms\n${this.describe()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then the exit status; SIGKILL (and a rejection) if it has not exited within timeoutMs. */
  async stop(timeoutMs = 15_000): Promise<Exit> {
    this.signal('SIGTERM');
    try {
      return await this.waitExit(timeoutMs);
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  /** SIGKILL and wait for the exit; for teardown, safe to call at any time and twice. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /** Exit status and stderr tail, for failure messages. */
  describe(): string {
    const status = this.exit ? `exited (code ${this.exit.code}, signal ${this.exit.signal})` : 'running';
    return `${this.name} (pid ${this.pid}) ${status}; stderr tail:\n${this.stderrTail}`;
  }

  private waitReady(timeoutMs: number): Promise<ReadyLine> {
    return new Promise<ReadyLine>((resolve, reject) => {
      const stdout = this.child.stdout;
      const done = (err: Error | null, line?: ReadyLine) => {
        clearTimeout(timer);
        stdout?.off('data', onData);
        this.child.off('exit', onExit);
        // Keep draining stdout so the child never blocks on a full pipe.
        stdout?.on('data', (d: Buffer) => {
          this.stdoutTail = (this.stdoutTail + d.toString()).slice(-TAIL);
        });
        if (err) reject(err);
        else resolve(line as ReadyLine);
      };
      const timer = setTimeout(
        () => done(new Error(`${this.name} not ready within ${timeoutMs} ms\n${this.describe()}`)),
        timeoutMs,
      );
      const onExit = () =>
        // Let the exit listener registered first record the status before describing it.
        setImmediate(() => done(new Error(`${this.name} exited before it was ready\n${this.describe()}`)));
      const onData = (d: Buffer) => {
        this.stdoutTail += d.toString();
        let nl = this.stdoutTail.indexOf('\n');
        while (nl >= 0) {
          const line = this.stdoutTail.slice(0, nl).trim();
          this.stdoutTail = this.stdoutTail.slice(nl + 1);
          nl = this.stdoutTail.indexOf('\n');
          if (!line.startsWith('{')) continue;
          try {
            const parsed = JSON.parse(line) as { event?: unknown };
            if (parsed.event === 'ready') return done(null, parsed as ReadyLine);
          } catch {
            // not a JSON line
          }
        }
      };
      stdout?.on('data', onData);
      this.child.once('exit', onExit);
    });
  }
}
