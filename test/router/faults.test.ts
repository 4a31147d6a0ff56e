// The fault suite: steady, seeded load on a cluster of 3 workers behind two
// router replicas, real processes throughout, while in turn a worker is
// SIGKILLed and restarted (under the same id), a worker is SIGSTOPped for
// 10 s, Redis restarts empty, and one router is restarted (SIGTERM, drain, a
// new process). About a minute and a half of wall time.
//
// Pass: no request lost before its first token (a connection a restarting
// router refuses is re-sent to the other one, as a load balancer would, and
// counted apart); mid-stream failures only for requests running on the
// killed worker; no HTTP error at all (no 503 from the Redis restart); and
// after each fault the prefix hit rate is back to 80% of what it was before
// the first one within 5 s. The figures are printed as a table.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { printTable } from '@chunkmesh/cli';
import {
  LoadGenerator,
  type RequestRecord,
  type RouterProcess,
  summarize,
  type WorkerProcess,
} from '@chunkmesh/test-support';
import { CHUNK, MODEL, TestCluster } from './cluster.ts';

const IDS = ['w-a', 'w-b', 'w-c'];
/** Heartbeat TTL of the workers: how long a dead or stopped one stays listed. */
const TTL_MS = 2000;
const RECOVERY_MS = 5000;
/** Hit rate counted as recovered: this share of the rate before the first fault. */
const RECOVERED = 0.8;

interface Fault {
  name: string;
  /** When the fault began and when it was over (the process back, Redis up, the new router ready). */
  at: number;
  over: number;
  /** The worker a fault killed: the only one mid-stream failures may name. */
  killed?: string;
}

/** Hit rate of the ok requests that started in each second from `from`. */
function hitRateBySecond(records: readonly RequestRecord[], from: number, seconds: number): number[] {
  return Array.from(
    { length: seconds },
    (_, i) => summarize(records, from + i * 1000, from + (i + 1) * 1000).hitRate,
  );
}

describe('fault suite: 3 workers, 2 routers, steady load', { timeout: 240_000 }, () => {
  let c: TestCluster;
  const faults: Fault[] = [];

  before(async () => {
    c = await TestCluster.start({
      workers: 3,
      workerIds: IDS,
      name: 'faults',
      workerArgs: ['--heartbeat-ttl-ms', String(TTL_MS)],
    });
    await Promise.all([0, 1].map(() => c.startRouter(['--first-token-timeout-ms', '3000'])));
  });
  after(async () => {
    await c?.stop();
  });

  test('no request lost before its first token, mid-stream failures only on the killed worker, hit rate back within 5 s', async () => {
    const load = new LoadGenerator({
      routers: () => c.routers.filter((r) => r.running).map((r) => r.baseUrl),
      model: MODEL,
      concurrency: 4,
      seed: 1234,
      families: 6,
      prefixTokens: 4 * CHUNK,
      suffixTokens: 8,
      maxTokens: 8,
      vocab: 512,
      // Steady rather than flat out: the machine's cores are shared with the cluster under test.
      thinkMs: 20,
    });
    let restartedUrl = '';
    const t0 = Date.now();
    load.start();
    const worker = (id: string) => c.worker(id);
    const replace = (old: WorkerProcess, next: WorkerProcess) => {
      c.workers.splice(c.workers.indexOf(old), 1, next);
    };
    try {
      await sleep(8000);

      // 1. A worker SIGKILLed under load, restarted under its id: it takes the id back once the
      // old entry lapses.
      const killed = worker('w-a');
      const kill: Fault = { name: 'worker SIGKILL + restart', at: Date.now(), over: 0, killed: 'w-a' };
      killed.signal('SIGKILL');
      await killed.exited;
      await sleep(1000);
      replace(killed, await c.startWorker(['--heartbeat-ttl-ms', String(TTL_MS)], 'w-a'));
      kill.over = Date.now();
      faults.push(kill);
      await sleep(8000);

      // 2. A worker stopped for 10 s: its new requests are retried elsewhere, its streams resume.
      const stopped = worker('w-b');
      const stop: Fault = { name: 'worker SIGSTOP 10 s', at: Date.now(), over: 0 };
      stopped.signal('SIGSTOP');
      await sleep(10_000);
      stopped.signal('SIGCONT');
      stop.over = Date.now();
      faults.push(stop);
      await sleep(7000);

      // 3. Redis restarted empty: workers re-register and resync; the routers keep them meanwhile.
      const redis: Fault = { name: 'Redis restarted empty', at: Date.now(), over: 0 };
      await c.redis.restart();
      redis.over = Date.now();
      faults.push(redis);
      await sleep(8000);

      // 4. One router restarted: it drains (in-flight requests finish), a new one starts.
      const old = c.routers.find((r) => r.running) as RouterProcess;
      restartedUrl = old.baseUrl;
      const restart: Fault = { name: 'router restart', at: Date.now(), over: 0 };
      old.signal('SIGTERM');
      const exit = await old.waitExit(20_000);
      assert.deepEqual(exit, { code: 0, signal: null }, old.describe());
      await c.startRouter(['--first-token-timeout-ms', '3000']);
      restart.over = Date.now();
      faults.push(restart);
      await sleep(7000);
    } finally {
      await load.stop();
    }

    const records = load.records;
    const all = summarize(records);
    const firstFault = (faults[0] as Fault).at;
    const baseline = summarize(records, t0 + 3000, firstFault).hitRate;
    const rows = faults.map((f) => {
      const window = summarize(records, f.at, f.over + RECOVERY_MS);
      const rates = hitRateBySecond(records, f.over, 10);
      const back = rates.findIndex((r) => r >= RECOVERED * baseline);
      return { fault: f, window, rates, backSeconds: back < 0 ? null : back + 1 };
    });
    process.stdout.write(
      `\nFault suite: ${all.requests} requests (${load.resent} re-sent after a connection refused or reset before any response, ${load.resets.length} of them resets), ` +
        `hit rate before the faults ${(baseline * 100).toFixed(1)}%, overall ${(all.hitRate * 100).toFixed(1)}%\n`,
    );
    printTable(
      ['fault', 'requests', 'lost', 'mid-stream', 'HTTP errors', 'hit rate back (s)'],
      rows.map((r) => [
        r.fault.name,
        r.window.requests,
        r.window.lost,
        r.window.midStream,
        r.window.httpErrors,
        r.backSeconds ?? 'no',
      ]),
    );
    const figures = rows.map((r) => ({
      fault: r.fault.name,
      ...r.window,
      hitRateBackSeconds: r.backSeconds,
    }));
    process.stdout.write(
      `${JSON.stringify({ faultSuite: { ...all, resent: load.resent, baseline, faults: figures } })}\n`,
    );

    assert.ok(all.requests > 300, `${all.requests} requests`);
    assert.ok(baseline > 0.5, `a prefix hit rate to recover: ${baseline}`);
    const describeRecord = (r: RequestRecord) => `${r.outcome} ${r.status} via ${r.router}: ${r.error}`;
    assert.deepEqual(
      records.filter((r) => r.outcome === 'lost').map(describeRecord),
      [],
      'no request lost before its first token',
    );
    assert.deepEqual(
      records.filter((r) => r.outcome === 'http_error').map(describeRecord),
      [],
      'no HTTP error (no 503 from the Redis restart)',
    );
    // A reset before any response is re-sent, and only the stopping router's kernel may do that (to
    // connections queued behind its closed listener): one anywhere else is a request a router dropped.
    const restart = faults.find((f) => f.name === 'router restart') as Fault;
    assert.deepEqual(
      load.resets
        .filter((x) => x.router !== restartedUrl || x.at < restart.at || x.at > restart.over)
        .map((x) => `${x.router} at +${x.at - restart.at} ms`),
      [],
      'connections reset before any response only by the router being restarted, while it was',
    );
    const killedIds = new Set(faults.flatMap((f) => (f.killed ? [f.killed] : [])));
    for (const r of records.filter((x) => x.outcome === 'mid_stream')) {
      const named = /worker (\S+) failed after/.exec(r.error ?? '')?.[1];
      assert.ok(
        named && killedIds.has(named),
        `a mid-stream failure on the killed worker only: ${describeRecord(r)}`,
      );
    }
    for (const row of rows) {
      assert.ok(
        row.backSeconds !== null && row.backSeconds * 1000 <= RECOVERY_MS,
        `${row.fault.name}: hit rate back to ${RECOVERED * 100}% of ${(baseline * 100).toFixed(1)}% within ` +
          `${RECOVERY_MS / 1000} s (by second: ${row.rates.map((x) => x.toFixed(2)).join(' ')})`,
      );
    }
  });
});
