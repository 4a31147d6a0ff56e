// One client per worker: reused, made again (the old one closed) when the
// worker's endpoint changes, closed when the worker leaves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerClients } from '../src/index.ts';

class FakeClient {
  closed = false;
  constructor(
    readonly endpoint: string,
    readonly options: Record<string, unknown>,
  ) {}
  close(): void {
    this.closed = true;
  }
}

describe('worker clients', () => {
  it('one per worker, renewed with its endpoint, closed when it leaves', () => {
    const made: FakeClient[] = [];
    const clients = new WorkerClients(
      (endpoint, _credentials, options) => {
        const c = new FakeClient(endpoint, options);
        made.push(c);
        return c;
      },
      undefined,
      { 'grpc.keepalive_time_ms': 30_000 },
    );
    const a = clients.of({ workerId: 'a', endpoint: '10.0.0.1:1' });
    assert.equal(clients.of({ workerId: 'a', endpoint: '10.0.0.1:1' }), a, 'reused');
    assert.deepEqual(a.options, { 'grpc.keepalive_time_ms': 30_000 }, 'no TLS name without cluster TLS');
    const b = clients.of({ workerId: 'b', endpoint: '10.0.0.2:1' });
    const a2 = clients.of({ workerId: 'a', endpoint: '10.0.0.3:1' });
    assert.notEqual(a2, a);
    assert.ok(a.closed, "the old incarnation's client is closed");
    clients.retain(new Set(['a']));
    assert.ok(b.closed && !a2.closed, 'b left');
    assert.equal(clients.of({ workerId: 'b', endpoint: '10.0.0.2:1' }) === b, false, 'b comes back new');
    clients.closeAll();
    assert.ok(made.every((c) => c.closed));
  });
});
