// GET /readyz on the router's ops port: JSON readiness, 200 while some
// compatible worker is live; when not, 503 in the error shape every error has,
// with the readiness beside it (not logged: probes ask every few seconds).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpOnlyError, type OpsHandler, sendOpenAiError, Unavailable } from '@chunkmesh/common';
import type { Readiness } from '../index/readiness.ts';

export function readyzHandler(ready: () => Readiness): OpsHandler {
  return (req: IncomingMessage, res: ServerResponse) => {
    if ((req.url ?? '/').split('?')[0] !== '/readyz') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendOpenAiError(
        res,
        new HttpOnlyError(405, 'method_not_allowed', 'use GET for /readyz', { allow: 'GET, HEAD' }),
      );
      return true;
    }
    const r = ready();
    if (r.ready) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r));
    else sendOpenAiError(res, new Unavailable(r.reason ?? 'not ready'), { readiness: r });
    return true;
  };
}
