// Stopping the HTTP front door without resetting a request a client has sent.
//
// On drain: the listening socket closes at once (a new connection is refused,
// so its client knows nothing was sent and can go to another replica); every
// reply whose headers have not gone out yet carries `Connection: close`, so a
// keep-alive client opens its next request elsewhere; requests in flight run
// to completion. Idle
// keep-alive connections are closed too, but not at once: a connection that
// looks idle may carry a request already on the wire that this process has
// not read yet (its event loop busy tokenising, say), and closing it would
// reset that request. So they are closed after SETTLE_MS, and then as they
// turn idle. Whatever is still open when the grace period ends is closed.
//
// (http.Server's own close() would close idle connections at the moment it is
// called, which is the reset above; net.Server's closes the listener alone.)
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a request sent before the drain may take to be read. */
const SETTLE_MS = 500;
/** How often connections that have turned idle are closed while draining. */
const SWEEP_MS = 50;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export class HttpDrain {
  private draining = false;
  /** Replies in progress: those whose headers are still to go out get `Connection: close` at the drain. */
  private readonly replies = new Set<ServerResponse>();

  /** `handler`, with `Connection: close` on every reply once draining. */
  wrap(handler: Handler): Handler {
    return (req, res) => {
      if (this.draining) res.setHeader('connection', 'close');
      else {
        this.replies.add(res);
        res.once('close', () => this.replies.delete(res));
      }
      handler(req, res);
    };
  }

  /** Resolves once every connection has closed: its requests finished, or graceMs passed. */
  async drain(server: Server, graceMs: number): Promise<void> {
    this.draining = true;
    for (const res of this.replies) if (!res.headersSent) res.setHeader('connection', 'close');
    this.replies.clear();
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    let sweep: NodeJS.Timeout | undefined;
    try {
      await Promise.race([closed, sleep(Math.min(SETTLE_MS, graceMs))]);
      server.closeIdleConnections();
      sweep = setInterval(() => server.closeIdleConnections(), SWEEP_MS);
      await closed;
    } finally {
      clearTimeout(force);
      clearInterval(sweep);
    }
  }
}
