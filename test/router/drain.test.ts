// A router draining on SIGTERM, with real processes and keep-alive clients:
// requests in flight (HTTP streams and JSON, a gRPC stream) finish; requests
// sent on idle keep-alive connections just before the signal are served, not
// reset; replies from then on say `Connection: close`; new connections are
// refused; gRPC health watchers are told NOT_SERVING and let go; and the
// process exits 0 well inside its grace period.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  collect,
  healthWatch,
  type RouterProcess,
  tcpConnects,
  tokenRun,
  waitFor,
} from '@chunkmesh/test-support';
import { MODEL, openStream, TestCluster } from './cluster.ts';

interface Reply {
  status: number;
  connection: string | undefined;
  text: string;
}

/** A POST on `agent` (keep-alive): the reply, or the socket error it got instead. */
function postOn(agent: Agent, url: string, body: unknown): Promise<Reply | Error> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }),
        );
        res.on('error', resolve);
      },
    );
    req.on('error', resolve);
    req.end(JSON.stringify(body));
  });
}

describe('router drain on SIGTERM', { timeout: 90_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });

  before(async () => {
    c = await TestCluster.start({ workers: 2, name: 'drain' });
    router = await c.startRouter(['--shutdown-grace-ms', '15000']);
  });
  after(async () => {
    agent.destroy();
    await c?.stop();
  });

  test('in-flight requests finish, requests sent before the signal are served, nothing is reset', async () => {
    const url = `${router.baseUrl}/v1/completions`;
    const short = (i: number) => ({ model: MODEL, prompt: tokenRun(900 + i, 24), max_tokens: 2 });
    // Idle keep-alive connections: eight requests at once leave eight sockets in the agent.
    const warm = await Promise.all(Array.from({ length: 8 }, (_, i) => postOn(agent, url, short(i))));
    for (const r of warm) assert.ok(!(r instanceof Error) && r.status === 200, String(r));
    assert.ok(Object.values(agent.freeSockets).flat().length >= 4, 'idle keep-alive sockets');

    // In flight at the signal: HTTP streams, and a gRPC stream.
    const streams = await Promise.all(
      Array.from({ length: 3 }, async (_, i) => {
        const s = await openStream(url, {
          model: MODEL,
          prompt: tokenRun(950 + i, 24),
          max_tokens: 120,
          ignore_eos: true,
          stream: true,
        });
        assert.equal(s.status, 200);
        await s.next();
        return s;
      }),
    );
    let grpcStarted = () => {};
    const started = new Promise<void>((resolve) => {
      grpcStarted = resolve;
    });
    const grpcStream = collect(
      c.client(router.address).generate({
        tokenIds: { ids: tokenRun(990, 24) },
        sampling: { maxTokens: 120, ignoreEos: true },
      }),
      () => grpcStarted(),
    );
    await started;
    const watch = healthWatch(router.address);
    await waitFor('the watch to report SERVING', () => watch.statuses.includes('SERVING'));

    // Sent on the idle keep-alive sockets while the router is frozen, then the signal: it wakes to
    // the signal and to requests it has not read yet.
    router.signal('SIGSTOP');
    const racing = Array.from({ length: 8 }, (_, i) => postOn(agent, url, short(20 + i)));
    await sleep(100);
    const t0 = Date.now();
    router.signal('SIGTERM');
    router.signal('SIGCONT');

    const replies = await Promise.all(racing);
    const errors = replies.filter((r) => r instanceof Error).map(String);
    assert.deepEqual(errors, [], 'no request sent before SIGTERM was reset');
    for (const r of replies) assert.equal((r as Reply).status, 200, (r as Reply).text);
    assert.ok(
      replies.some((r) => (r as Reply).connection === 'close'),
      'replies during the drain say Connection: close',
    );
    assert.equal(await tcpConnects('127.0.0.1', router.httpPort), false, 'new connections are refused');

    for (const s of streams) {
      const rest = await s.rest();
      assert.equal(rest.at(-1), '[DONE]');
      assert.equal(rest.at(-2)?.choices?.[0]?.finish_reason, 'length', 'the stream ran to its end');
    }
    const g = await grpcStream;
    assert.equal(g.final.finishReason, 'FINISH_REASON_LENGTH');
    assert.equal(g.ids.length, 120);
    const exit = await router.waitExit(15_000);
    assert.deepEqual(exit, { code: 0, signal: null }, router.describe());
    assert.ok(Date.now() - t0 < 12_000, `exited ${Date.now() - t0} ms after SIGTERM`);
    assert.equal(await watch.ended, null, 'the health watch was ended with OK');
    assert.equal(watch.statuses.at(-1), 'NOT_SERVING');
  });
});
