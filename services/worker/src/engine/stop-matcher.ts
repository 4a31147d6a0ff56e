// Stop strings over streamed text: text that might be the start of a stop
// string is held back until the next delta decides it, so a stop string is
// never shown to the caller and nothing else is withheld for good.

export class StopMatcher {
  private held = '';

  constructor(private readonly stops: readonly string[]) {}

  /** Feeds a text delta; returns what can be emitted now and whether a stop string completed. */
  push(delta: string): { emit: string; stopped: boolean } {
    const text = this.held + delta;
    let cut = -1;
    for (const s of this.stops) {
      const i = text.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.held = '';
      return { emit: text.slice(0, cut), stopped: true };
    }
    const keep = this.partialSuffix(text);
    this.held = text.slice(text.length - keep);
    return { emit: text.slice(0, text.length - keep), stopped: false };
  }

  /** What was held back, released when generation ends for another reason. */
  flush(): string {
    const out = this.held;
    this.held = '';
    return out;
  }

  private partialSuffix(text: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, text.length); n > best; n--) {
        if (text.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
