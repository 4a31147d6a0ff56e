// Prometheus registry and the two operational HTTP endpoints every service
// has: GET /metrics (exposition format) and GET /healthz (readiness), on a
// port of their own, apart from any API a service serves (they are never
// authenticated), with a service's own ops endpoints beside them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HttpOnlyError, NotFound, Unavailable } from './errors.ts';
import { sendOpenAiError } from './status.ts';

export interface RegistryOptions {
  /** Labels on every series, e.g. {service: 'worker'}; keep them bounded. */
  defaultLabels?: Record<string, string>;
  /** Process metrics (CPU, memory, event loop lag, GC); on by default. */
  processMetrics?: boolean;
}

export function createRegistry(options: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

export type OpsHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Answers /metrics and /healthz and returns true, or returns false and leaves
 * the request alone for the next handler. Errors (wrong method, not ready, a
 * failed collection) are in the JSON error shape of the OpenAI endpoints.
 */
function opsHandler(registry: Registry, ready: () => boolean = () => true): OpsHandler {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendOpenAiError(
        res,
        new HttpOnlyError(405, 'method_not_allowed', `use GET for ${path}`, { allow: 'GET, HEAD' }),
      );
      return true;
    }
    if (path === '/healthz') {
      if (ready()) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      else sendOpenAiError(res, new Unavailable('not ready'));
      return true;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => sendOpenAiError(res, err),
    );
    return true;
  };
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves opsHandler (and `more`, a service's own ops endpoints) on its own port (0 picks a free one); anything else is 404. */
export async function serveOps(options: {
  registry: Registry;
  port: number;
  host?: string;
  ready?: () => boolean;
  more?: OpsHandler;
}): Promise<OpsServer> {
  const handle = opsHandler(options.registry, options.ready);
  const more = options.more ?? (() => false);
  const server: Server = createServer((req, res) => {
    if (!handle(req, res) && !more(req, res))
      sendOpenAiError(res, new NotFound(`no route for ${req.method} ${req.url}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
