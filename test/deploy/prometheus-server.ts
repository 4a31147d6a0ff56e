// A private Prometheus (Debian's `prometheus` package) for the deploy tests: scrapes the given
// static targets every second on loopback, loads a rules file, answers instant and range queries
// through its HTTP API, and is killed by stop() or when the test process exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@chunkmesh/test-support';
import { stringify } from 'yaml';

export interface ScrapeJob {
  job: string;
  /** host:port of each /metrics target, with the labels the Prometheus Operator would add. */
  targets: { address: string; labels: Record<string, string> }[];
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

export interface Sample {
  metric: Record<string, string>;
  values: [number, string][];
}

export class PrometheusServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    private readonly log: () => string,
  ) {}

  static async start(o: { jobs: ScrapeJob[]; rules: object }): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-prometheus-'));
    writeFileSync(join(dir, 'rules.yml'), stringify(o.rules));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yml')],
      scrape_configs: o.jobs.map((j) => ({
        job_name: j.job,
        static_configs: j.targets.map((t) => ({ targets: [t.address], labels: t.labels })),
      })),
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    const server = new PrometheusServer(child, dir, `http://127.0.0.1:${port}`, () => stderr);
    await waitFor(
      'prometheus to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
        return (await fetch(`${server.url}/-/ready`).catch(() => undefined))?.ok;
      },
      20_000,
      100,
    );
    return server;
  }

  private async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/${path}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  }

  /** A range query's series (an error for invalid PromQL or an evaluation failure). */
  async queryRange(expr: string, startS: number, endS: number, stepS = 1): Promise<Sample[]> {
    const data = await this.api<{ result: Sample[] }>('query_range', {
      query: expr,
      start: String(startS),
      end: String(endS),
      step: String(stepS),
    });
    return data.result;
  }

  async rules(): Promise<{ name: string; type: string; health: string; lastError?: string }[]> {
    const data = await this.api<{
      groups: { rules: { name: string; type: string; health: string; lastError?: string }[] }[];
    }>('rules');
    return data.groups.flatMap((g) => g.rules);
  }

  /** Targets that are not up, with Prometheus's reason. */
  async downTargets(): Promise<string[]> {
    const data = await this.api<{
      activeTargets: { scrapeUrl: string; health: string; lastError: string }[];
    }>('targets');
    return data.activeTargets
      .filter((t) => t.health !== 'up')
      .map((t) => `${t.scrapeUrl}: ${t.health} ${t.lastError}`);
  }

  describe(): string {
    return this.log();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
