import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CHUNKMESH_BIN, MOONCAKE_TRACE } from '@chunkmesh/test-support';
import { createPolicy } from '../../src/placement/policies.ts';
import { readTrace, type TraceRequest, traceTokens } from '../../src/replay/mooncake-trace.ts';
import { pooledUpperBound, replay } from '../../src/replay/replay.ts';

// Four requests 10 s apart (no queueing): r2 extends r1's two blocks, r3 shares r1's first block,
// r4 shares nothing. Hits at c = 64: r2 1024 tokens, r3 512, the rest 0.
const trace: TraceRequest[] = [
  { timestampMs: 0, inputLength: 1024, outputLength: 10, hashIds: [1, 2] },
  { timestampMs: 10_000, inputLength: 1536, outputLength: 10, hashIds: [1, 2, 3] },
  { timestampMs: 20_000, inputLength: 1024, outputLength: 10, hashIds: [1, 9] },
  { timestampMs: 30_000, inputLength: 300, outputLength: 10, hashIds: [5] },
];
const PROMPT = 1024 + 1536 + 1024 + 300;
const options = {
  workers: 2,
  capacityTokensPerWorker: 100_000,
  chunkTokens: 64,
  rates: { prefillTokensPerSecond: 10_000, decodeTokensPerSecond: 2_000 },
  speedup: 1,
};

describe('trace replay', () => {
  it('expands blocks into chunks so that exactly the shared blocks share tokens', () => {
    const [a, b, c] = trace.map(traceTokens) as [Int32Array, Int32Array, Int32Array];
    assert.deepEqual(b.subarray(0, 1024), a);
    assert.deepEqual(c.subarray(0, 512), a.subarray(0, 512));
    assert.notDeepEqual(c.subarray(512, 576), a.subarray(512, 576));
  });

  it('gives hand-checkable hit rates: pooled, prefix-aware and round-robin', () => {
    assert.equal(pooledUpperBound(trace, options).hitRate, 1536 / PROMPT);
    const aware = replay(trace, createPolicy('prefix-aware'), options);
    assert.equal(aware.hitTokens, 1536);
    assert.equal(aware.meanQueueSeconds, 0);
    // round-robin puts r2 on the other worker (no hit) and r3 back on r1's (512)
    assert.equal(replay(trace, createPolicy('round-robin'), options).hitTokens, 512);
  });

  it('counts queueing when requests arrive faster than a worker serves them', () => {
    const burst = trace.map((r) => ({ ...r, timestampMs: 0 }));
    const r = replay(burst, createPolicy('consistent-hash'), { ...options, workers: 1 });
    // one worker, FIFO: the last waits for the three before it
    assert.ok(r.meanQueueSeconds > 0);
    assert.equal(r.loadImbalance, 1);
  });

  it('evicts least-recently-used chunks under a small capacity', () => {
    const abA: TraceRequest[] = [1, 2, 1].map((block, i) => ({
      timestampMs: i * 10_000,
      inputLength: 512,
      outputLength: 1,
      hashIds: [block],
    }));
    // the repeat of A matches 7 chunks (448 tokens: the last token is always computed) if A survived B
    assert.equal(
      pooledUpperBound(abA, { ...options, workers: 1, capacityTokensPerWorker: 1024 }).hitTokens,
      448,
    );
    assert.equal(
      pooledUpperBound(abA, { ...options, workers: 1, capacityTokensPerWorker: 512 }).hitTokens,
      0,
    );
  });

  describe('with host and disk tiers', () => {
    // A, B, A on one worker whose device holds one prompt: device-only, the repeat of A misses.
    const aba: TraceRequest[] = [1, 2, 1].map((block, i) => ({
      timestampMs: i * 10_000,
      inputLength: 512,
      outputLength: 1,
      hashIds: [block],
    }));
    const small = { ...options, workers: 1, capacityTokensPerWorker: 512 };
    const restore = { hostTokensPerSecond: 100_000, diskTokensPerSecond: 20_000, diskLatencySeconds: 0.001 };
    const run = (hostChunks: number, diskChunks: number) =>
      replay(aba, createPolicy('prefix-aware'), { ...small, tiers: { hostChunks, diskChunks, restore } });

    it('finds the evicted prompt in the host tier, else on disk, else nowhere', () => {
      assert.equal(replay(aba, createPolicy('prefix-aware'), small).hitTokens, 0);
      // 7 chunks of the repeat (the last token is always computed): 448 tokens.
      assert.deepEqual(run(8, 0).hitTokensByTier, { device: 0, host: 448, disk: 0 });
      assert.deepEqual(run(0, 8).hitTokensByTier, { device: 0, host: 0, disk: 448 });
      const split = run(4, 8);
      assert.equal(split.hitTokens, 448);
      assert.ok(split.hitTokensByTier.host > 0 && split.hitTokensByTier.disk > 0, JSON.stringify(split));
      assert.equal(run(0, 0).hitTokens, 0);
    });

    it('charges restores at their rates: a slow disk queues the next request more than the host', () => {
      // A, B, A, C at once: C waits behind the repeat of A, which restores its prefix.
      const burst = [...aba, { ...(aba[1] as TraceRequest), hashIds: [3] }].map((r) => ({
        ...r,
        timestampMs: 0,
      }));
      const queue = (hostChunks: number, diskChunks: number, diskTokensPerSecond: number) =>
        replay(burst, createPolicy('round-robin'), {
          ...small,
          tiers: { hostChunks, diskChunks, restore: { ...restore, diskTokensPerSecond } },
        }).meanQueueSeconds;
      assert.ok(queue(0, 8, 20) > queue(8, 0, 20), 'a disk at 20 tokens/s is slower than the host');
    });
  });

  const dir = mkdtempSync(join(tmpdir(), 'cm-replay-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the JSONL format and rejects malformed lines with the line number', async () => {
    const good = join(dir, 'good.jsonl');
    writeFileSync(
      good,
      trace
        .map((r) =>
          JSON.stringify({
            timestamp: r.timestampMs,
            input_length: r.inputLength,
            output_length: r.outputLength,
            hash_ids: r.hashIds,
          }),
        )
        .join('\n'),
    );
    assert.deepEqual(await readTrace(good), trace);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"timestamp": 0, "input_length": 600, "output_length": 1, "hash_ids": [1]}\n');
    await assert.rejects(readTrace(bad), /bad.jsonl:1: 1 hash_ids for 600 input tokens/);
  });

  it('reads a gzip-compressed .jsonl.gz as the .jsonl it holds', async () => {
    const gz = join(dir, 'good.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(join(dir, 'good.jsonl'))));
    assert.deepEqual(await readTrace(gz), trace);
    assert.deepEqual(await readTrace(gz, 2), trace.slice(0, 2));
    await assert.rejects(readTrace(join(dir, 'missing.jsonl.gz')), /ENOENT/);
    const corrupt = join(dir, 'corrupt.jsonl.gz');
    writeFileSync(corrupt, readFileSync(join(dir, 'good.jsonl')));
    await assert.rejects(readTrace(corrupt), /incorrect header check/);
  });

  it('reads the vendored Mooncake conversation trace: 12,031 valid requests', async () => {
    const mooncake = await readTrace(MOONCAKE_TRACE);
    assert.equal(mooncake.length, 12_031);
    assert.deepEqual(mooncake[0], {
      timestampMs: 0,
      inputLength: 6758,
      outputLength: 500,
      hashIds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    });
  });

  it('runs as `chunkmesh replay` and writes JSON', () => {
    const tracePath = join(dir, 'good.jsonl');
    const json = join(dir, 'out.json');
    const out = execFileSync(
      process.execPath,
      [CHUNKMESH_BIN, 'replay', '--trace', tracePath, '--workers', '2', '--json', json],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    assert.match(out, /pooled bound\s+39\.5%/);
    assert.match(out, /prefix-aware \+ tiers\s+\d+\.\d%/);
    const written = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(written.results.length, 4);
    assert.equal(written.tiered.length, 4, 'the default host tier (4x) runs every policy again');
    assert.equal(written.tiers.hostChunks, 4 * Math.floor(500_000 / 64));
    assert.equal(written.pooled.hitTokens, 1536);
  });

  it('replays the vendored Mooncake trace when given no --trace', () => {
    const out = execFileSync(
      process.execPath,
      [CHUNKMESH_BIN, 'replay', '--limit', '300', '--policy', 'prefix-aware'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    assert.match(out, /^300 requests, 8 workers/m);
    assert.match(out, /prefix-aware\s+\d+\.\d%/);
  });
});
