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
    // Words are runs of one repeated character.
    words: {
      split: (piece) => piece.match(/(.)\1*/g) ?? [],
      encodeWord: (word) => [...word].map((c) => c.charCodeAt(0)),
    },
  },
};

test('hits, misses and held tokens', async () => {
  const registry = new Registry();
  const cache = new SegmentCachingTokenizer(chars, 100);
  registerTokenizeMetrics(registry, cache);
  assert.deepEqual(cache.encode('ab|cd'), chars.encode('ab|cd'));
  assert.deepEqual(cache.encode('ab|cd|e'), chars.encode('ab|cd|e'));
  assert.deepEqual(cache.encode('aab|ee'), chars.encode('aab|ee'));
  const value = async (name: string) =>
    (await registry.getMetricsAsJSON()).find((m) => m.name === name)?.values[0]?.value;
  assert.equal(await value('chunkmesh_router_tokenize_cache_hits_total'), 2);
  assert.equal(await value('chunkmesh_router_tokenize_cache_misses_total'), 5);
  assert.equal(await value('chunkmesh_router_tokenize_cache_tokens'), 10);
  // Words of the five missed pieces: a b c d e aa b ee; seen before: b, and none other.
  assert.equal(await value('chunkmesh_router_tokenize_cache_word_hits_total'), 1);
  assert.equal(await value('chunkmesh_router_tokenize_cache_word_misses_total'), 7);
  assert.equal(await value('chunkmesh_router_tokenize_cache_word_tokens'), 9);
});
