// `chunkmesh up` and `chunkmesh demo` as a newcomer runs them: the compiled
// command on plain node (no tsx, no source condition) launching the compiled
// worker and router, real processes, a real private redis-server, and nothing
// left running afterwards.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CHUNKMESH_BIN, REPO_ROOT, ServiceProcess } from '@chunkmesh/test-support';

/** Processes whose command line mentions `marker` (our children carry the unique cluster name). */
function processesWith(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', marker], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('local cluster commands', () => {
  it('chunkmesh up starts a working cluster and stops it cleanly, leaving no process behind', async () => {
    const cluster = `up-test-${process.pid}`;
    const { proc, ready } = await ServiceProcess.start({
      entry: CHUNKMESH_BIN,
      name: 'chunkmesh up',
      args: [
        'up',
        '--workers',
        '2',
        '--http-port',
        '0',
        '--grpc-port',
        '0',
        '--ops-port',
        '0',
        '--cluster',
        cluster,
      ],
      readyTimeoutMs: 120_000,
    });
    try {
      const base = `http://127.0.0.1:${ready.httpPort}`;
      const models = (await (await fetch(`${base}/v1/models`)).json()) as { data: { id: string }[] };
      const model = models.data[0]?.id as string;
      const res = await fetch(`${base}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, prompt: 'hello cluster', max_tokens: 4, ignore_eos: true }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { usage: { completion_tokens: number } };
      assert.equal(body.usage.completion_tokens, 4);
      const services = processesWith(cluster).filter((l) => /services\/(worker|router)\//.test(l));
      assert.equal(services.length, 3, 'two workers and a router run');
      for (const line of services) {
        assert.match(line, /\/services\/(worker|router)\/dist\/main\.js /, `from the build: ${line}`);
        assert.doesNotMatch(line, /tsx|chunkmesh-source/, `on plain node: ${line}`);
      }
    } finally {
      const exit = await proc.stop(30_000);
      assert.equal(exit.code, 0, proc.describe());
    }
    assert.deepEqual(processesWith(cluster), [], 'no worker or router left behind');
  });

  it('chunkmesh demo runs end to end and prints the comparison', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        CHUNKMESH_BIN,
        'demo',
        '--tenants',
        '2',
        '--sessions',
        '2',
        '--turns',
        '2',
        '--one-offs',
        '2',
        '--max-tokens',
        '6',
      ],
      { cwd: REPO_ROOT, timeout: 180_000 },
    );
    assert.match(stdout, /prefix-aware\s+\d+/);
    assert.match(stdout, /round-robin\s+\d+/);
    const hit = (policy: string) =>
      Number(new RegExp(`${policy}\\s+\\d+\\s+\\d+\\s+([\\d.]+)%`).exec(stdout)?.[1]);
    assert.ok(hit('prefix-aware') > 0, stdout);
    assert.deepEqual(processesWith('demo-'), [], 'the demo stopped its cluster');
  });
});
