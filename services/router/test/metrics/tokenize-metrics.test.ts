// The tokenize cache's metrics read its counts at scrape time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SegmentCachingTokenizer, type Tokenizer } from '@chunkmesh/model';
import { Registry } from 'prom-client';
import { registerTokenizeMetrics } from '../../src/metrics/tokenize-metrics.ts';

/** Characters are tokens (their code points); '|' is an added token, id 0, between pieces. */
const chars: Tokenizer = {
  id: 'chars',
  vocabSize: 128,
  eosTokenIds: [],
  cleansUpSpaces: false,
  encode: (text) => [...text].map((c) => (c === '|' ? 0 : c.charCodeAt(0))),
  decode: (ids) => String.fromCharCode(...ids),
  tokenBytes: (id) => Uint8Array.of(id),
  isSpecial: (id) => id === 0,
  segmenter: {
    split: (text) => ({
      parts: text.split('|').flatMap((p, i) => (i === 0 ? (p ? [p] : []) : p ? [0, p] : [0])),
      before: [],
      after: [],
    }),
    encodePiece: (piece) => [...piece].map((c) => c.charCodeAt(0)),
  },
};

test('hits, misses and held tokens', async () => {
  const registry = new Registry();
  const cache = new SegmentCachingTokenizer(chars, 100);
  registerTokenizeMetrics(registry, cache);
  assert.deepEqual(cache.encode('ab|cd'), chars.encode('ab|cd'));
  assert.deepEqual(cache.encode('ab|cd|e'), chars.encode('ab|cd|e'));
  const value = async (name: string) =>
    (await registry.getMetricsAsJSON()).find((m) => m.name === name)?.values[0]?.value;
  assert.equal(await value('chunkmesh_router_tokenize_cache_hits_total'), 2);
  assert.equal(await value('chunkmesh_router_tokenize_cache_misses_total'), 3);
  assert.equal(await value('chunkmesh_router_tokenize_cache_tokens'), 5);
});
