// The router's tokenize segment cache, read at scrape time from its own counts.
import type { SegmentCachingTokenizer } from '@chunkmesh/model';
import { Counter, Gauge, type Registry } from 'prom-client';

export function registerTokenizeMetrics(registry: Registry, cache: SegmentCachingTokenizer): void {
  const registers = [registry];
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter(
    'chunkmesh_router_tokenize_cache_hits_total',
    'Chat pieces (text between special tokens) whose tokens the router found in its tokenize cache',
    () => cache.stats().hits,
  );
  counter(
    'chunkmesh_router_tokenize_cache_misses_total',
    'Chat pieces the router tokenised (then kept, if they fit the cache)',
    () => cache.stats().misses,
  );
  counter(
    'chunkmesh_router_tokenize_cache_word_hits_total',
    'Words of missed chat pieces found in the tokenize word cache',
    () => cache.stats().wordHits,
  );
  counter(
    'chunkmesh_router_tokenize_cache_word_misses_total',
    'Words of missed chat pieces the router tokenised',
    () => cache.stats().wordMisses,
  );
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  gauge(
    'chunkmesh_router_tokenize_cache_tokens',
    'Tokens held by the tokenize cache of pieces (at most --tokenize-cache-tokens)',
    () => cache.stats().tokens,
  );
  gauge(
    'chunkmesh_router_tokenize_cache_word_tokens',
    'Tokens held by the tokenize cache of words (at most --tokenize-cache-tokens)',
    () => cache.stats().wordTokens,
  );
}
