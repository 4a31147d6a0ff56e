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
  new Gauge({
    name: 'chunkmesh_router_tokenize_cache_tokens',
    help: 'Tokens held by the tokenize cache (at most --tokenize-cache-tokens)',
    registers,
    collect() {
      this.set(cache.stats().tokens);
    },
  });
}
