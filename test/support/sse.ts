// Server-sent events read frame by frame from any byte stream (a fetch body,
// a node:http response): each `data:` payload, '[DONE]' as is and anything
// else parsed as JSON. A stream that ends inside a frame is an error: the
// server was cut off mid-event.
export class SseReader {
  private buffer = '';
  private ended = false;
  private readonly decoder = new TextDecoder();
  private readonly bytes: AsyncIterator<Uint8Array> | undefined;

  constructor(body: AsyncIterable<Uint8Array> | null | undefined) {
    this.bytes = body?.[Symbol.asyncIterator]();
  }

  /** The next `data:` payload ('[DONE]' as is, else parsed JSON), or undefined at the end of the body. */
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON chunks
  async next(): Promise<any> {
    for (;;) {
      const cut = this.buffer.indexOf('\n\n');
      if (cut >= 0) {
        const frame = this.buffer.slice(0, cut);
        this.buffer = this.buffer.slice(cut + 2);
        const data = frame
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (data === '') continue;
        return data === '[DONE]' ? data : JSON.parse(data);
      }
      if (this.ended || !this.bytes) {
        if (this.buffer.trim() !== '')
          throw new Error(`the stream ended inside a frame: ${this.buffer.slice(0, 200)}`);
        return undefined;
      }
      const { done, value } = await this.bytes.next();
      if (done) this.ended = true;
      else this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Every remaining payload. */
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON chunks
  async rest(): Promise<any[]> {
    const out = [];
    for (let e = await this.next(); e !== undefined; e = await this.next()) out.push(e);
    return out;
  }
}
