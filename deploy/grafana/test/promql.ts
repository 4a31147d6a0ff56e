// What the dashboard and rule checks need to know about PromQL and this project's metrics: the
// series names the services register (read from the services' own metric classes, never from a
// hand-kept list), expression parsing with Grafana's variables substituted, and the metric names
// an expression selects.
import { JobMetrics } from '@chunkmesh/jobs';
import {
  AccessMetrics,
  RouterMetrics,
  registerTemplateMetrics,
  registerTokenizeMetrics,
} from '@chunkmesh/router';
import { WorkerMetrics } from '@chunkmesh/worker';
import { parser } from '@prometheus-io/lezer-promql';
import { Registry } from 'prom-client';

/** Every series name a worker, router or job runner exports under the chunkmesh_ prefix (histograms: _bucket, _sum, _count). */
export function registeredSeries(): Set<string> {
  const registry = new Registry();
  // the metric classes only need these to collect at scrape time, which listing names does not do
  new WorkerMetrics(registry, {} as never);
  new RouterMetrics(registry, {} as never);
  new AccessMetrics(registry);
  registerTokenizeMetrics(registry, {} as never);
  registerTemplateMetrics(registry, {} as never);
  new JobMetrics(registry, () => []);
  const names = new Set<string>();
  for (const m of registry.getMetricsAsArray() as unknown as { name: string; type?: string }[]) {
    const suffixes = m.type === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    for (const s of suffixes) names.add(`${m.name}${s}`);
  }
  return names;
}

/** Grafana's variables replaced by values Prometheus accepts (as Grafana does before sending). */
export function substituteVariables(expr: string, rateInterval = '1m'): string {
  return expr.replaceAll('$__rate_interval', rateInterval).replaceAll('$namespace', '.*');
}

/** The metric names an expression selects, or the text around the first syntax error. */
export function parsePromql(expr: string): { metrics: string[]; error?: string } {
  const metrics: string[] = [];
  let error: string | undefined;
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError)
        error ??= `syntax error at ${node.from}: ${expr.slice(Math.max(0, node.from - 20), node.from + 20)}`;
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        metrics.push(expr.slice(node.from, node.to));
    },
  });
  return error ? { metrics, error } : { metrics };
}
