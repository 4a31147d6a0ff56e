// A one-line progress bar on stderr for long commands; plain lines when
// stderr is not a terminal (CI logs), at most one per 10%.

export class Progress {
  private lastDecile = -1;

  constructor(private readonly label: string) {}

  update(done: number, total: number): void {
    const frac = total > 0 ? done / total : 1;
    if (process.stderr.isTTY) {
      const width = 30;
      const fill = Math.round(frac * width);
      process.stderr.write(
        `\r${this.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total}${done === total ? '\n' : ''}`,
      );
      return;
    }
    const decile = Math.floor(frac * 10);
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      process.stderr.write(`${this.label}: ${done}/${total} (${Math.round(frac * 100)}%)\n`);
    }
  }
}
