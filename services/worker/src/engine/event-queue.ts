// A single-consumer async queue (bounded by the request's max tokens): the engine pushes events, one consumer
// iterates. When the consumer stops early (break, return, a dropped stream),
// onClose fires so the engine can cancel the request.

export class EventQueue<T extends { type: string }> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;
  private done = false;
  private closeHandlers: (() => void)[] = [];

  push(item: T): void {
    if (this.done) return;
    this.items.push(item);
    if (item.type === 'final') this.done = true;
    this.waiter?.();
  }

  onClose(fn: () => void): void {
    this.closeHandlers.push(fn);
  }

  private close(): void {
    const handlers = this.closeHandlers;
    this.closeHandlers = [];
    for (const h of handlers) h();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        const item = this.items.shift();
        if (item) {
          yield item;
          if (item.type === 'final') return;
          continue;
        }
        await new Promise<void>((r) => {
          this.waiter = r;
        });
        this.waiter = undefined;
      }
    } finally {
      this.close();
    }
  }
}
