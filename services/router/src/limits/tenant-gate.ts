// The router's request path with per-tenant limits in front: what the front
// doors call. Admission is decided before placement; the tokens charged are
// corrected to what the request really used (its prompt plus the tokens it
// streamed, also when it fails or is cancelled) when it ends.
import type { RouteEvent, RouteRequest, RouterCore } from '../forwarding/router-core.ts';
import type { TenantLimiter } from './tenant-limiter.ts';

export class TenantGate {
  constructor(
    private readonly core: Pick<RouterCore, 'route'>,
    private readonly limiter: TenantLimiter,
    /** What a request that sets no max_tokens is charged for its completion (the router's --default-max-tokens). */
    private readonly defaultMaxTokens: number,
  ) {}

  async *route(req: RouteRequest): AsyncGenerator<RouteEvent> {
    const prompt = req.promptTokens.length;
    const admission = this.limiter.admit(
      req.tenant,
      prompt + (req.sampling.maxTokens || this.defaultMaxTokens),
    );
    let produced = 0;
    try {
      for await (const e of this.core.route(req)) {
        if (e.type === 'delta') produced += e.tokenIds.length;
        yield e;
      }
    } finally {
      admission.finish(prompt + produced);
    }
  }
}
