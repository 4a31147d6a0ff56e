// A TCP relay in front of a service's port, for faults on the wire: it passes
// everything, except that it can flip one byte of what comes back, or pass
// what comes back only up to a point and hold the rest (the test kills the
// service then). When either side closes, so does the other.
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpRelay {
  upstreamPort = 0;
  /** Bytes back from the service that pass; the relay holds what comes after, and calls onHold once. */
  holdAfter = Number.POSITIVE_INFINITY;
  onHold: () => void = () => undefined;
  held = false;
  /** The offset, in what comes back on one connection, of a byte to flip (once). */
  flipAt = -1;
  flipped = false;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((down) => {
      const up = connect(this.upstreamPort, '127.0.0.1');
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          down.destroy();
          up.destroy();
        });
      }
      down.pipe(up);
      let back = 0;
      up.on('data', (b: Buffer) => {
        if (this.held) return;
        if (!this.flipped && this.flipAt >= back && this.flipAt < back + b.length) {
          b[this.flipAt - back] = (b[this.flipAt - back] as number) ^ 0x01;
          this.flipped = true;
        }
        // Exactly holdAfter bytes pass, however the service's bytes arrive (one read may hold a
        // whole response on loopback): the rest of that read is held too.
        const pass = Math.min(b.length, Math.max(0, this.holdAfter - back));
        back += pass;
        down.write(pass === b.length ? b : b.subarray(0, pass));
        if (pass < b.length) {
          this.held = true;
          this.onHold();
        }
      });
    });
  }

  /** Listens on a free port of 127.0.0.1; resolves with it. */
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as { port: number }).port;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}
