// Logging and the operational HTTP endpoints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter } from 'prom-client';
import { createLogger, createRegistry, levelFromEnv, serveOps } from '../src/index.ts';

describe('log', () => {
  it('writes JSON lines with bound fields, bigint and errors intact', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 'worker' }, { level: 'info', write: (l) => lines.push(l) });
    log.debug('hidden');
    log.child({ workerId: 'w1' }).warn('epoch changed', { epoch: 2n ** 64n - 1n, err: new Error('boom') });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]?.endsWith('\n'));
    const entry = JSON.parse(lines[0] as string);
    assert.equal(entry.level, 'warn');
    assert.equal(entry.msg, 'epoch changed');
    assert.equal(entry.service, 'worker');
    assert.equal(entry.workerId, 'w1');
    assert.equal(entry.epoch, '18446744073709551615');
    assert.equal(entry.err.message, 'boom');
    assert.ok(!Number.isNaN(Date.parse(entry.time)));
  });

  it('takes its level from CHUNKMESH_LOG_LEVEL', () => {
    assert.equal(levelFromEnv({ CHUNKMESH_LOG_LEVEL: 'DEBUG' }), 'debug');
    assert.equal(levelFromEnv({ CHUNKMESH_LOG_LEVEL: 'silent' }), 'silent');
    assert.equal(levelFromEnv({ CHUNKMESH_LOG_LEVEL: 'chatty' }), 'info');
    assert.equal(levelFromEnv({}), 'info');
  });
});

describe('ops endpoints', () => {
  it('serves /metrics and /healthz', async () => {
    const registry = createRegistry({ defaultLabels: { service: 'test' }, processMetrics: false });
    new Counter({ name: 'chunkmesh_test_requests_total', help: 'Requests.', registers: [registry] }).inc(3);
    let ready = false;
    const ops = await serveOps({ registry, port: 0, host: '127.0.0.1', ready: () => ready });
    try {
      const base = `http://127.0.0.1:${ops.port}`;
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
      assert.match(await metrics.text(), /chunkmesh_test_requests_total\{service="test"\} 3/);
      const errorOf = async (res: Response) => {
        assert.match(res.headers.get('content-type') ?? '', /application\/json/);
        const body = (await res.json()) as { error: Record<string, unknown> };
        assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
        return [res.status, body.error.code];
      };
      const notReady = await fetch(`${base}/healthz`);
      assert.deepEqual(await errorOf(notReady), [503, 'unavailable']);
      assert.equal(notReady.headers.get('retry-after'), '1');
      ready = true;
      const healthz = await fetch(`${base}/healthz`);
      assert.equal(healthz.status, 200);
      assert.equal(await healthz.text(), 'ok\n');
      assert.deepEqual(await errorOf(await fetch(`${base}/other`)), [404, 'not_found']);
      const post = await fetch(`${base}/metrics`, { method: 'POST' });
      assert.deepEqual(await errorOf(post), [405, 'method_not_allowed']);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
    } finally {
      await ops.close();
    }
  });
});
