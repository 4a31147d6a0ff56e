// The last line of defence of the HTTP front door: a handler that throws
// synchronously (a bug: every expected failure is answered where it happens)
// answers 500 in OpenAI's error shape, its details logged and never sent,
// instead of ending the process and every request in it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Logger, sendOpenAiError } from '@chunkmesh/common';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function guarded(handler: Handler, log: Logger): Handler {
  return (req, res) => {
    try {
      handler(req, res);
    } catch (err) {
      log.error('request handler threw', { path: req.url, error: (err as Error).stack });
      if (!res.headersSent) sendOpenAiError(res, err);
      else res.destroy();
    }
  };
}
