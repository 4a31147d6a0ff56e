// The chat template's renders, read at scrape time from its own counts: how
// many requests the compiled form rendered, how many the interpreter did, and
// how many of those the compiled form should have rendered but failed on (a
// compiler bug, invisible otherwise: the interpreter's text is exact, only
// slower).
import type { TemplateRenderStats } from '@chunkmesh/model';
import { Counter, type Registry } from 'prom-client';

export function registerTemplateMetrics(
  registry: Registry,
  template: { renderStats(): Readonly<TemplateRenderStats> },
): void {
  new Counter({
    name: 'chunkmesh_router_chat_template_renders_total',
    help: "Chat prompts rendered with the model's Jinja chat template, by renderer (compiled, interpreter)",
    labelNames: ['renderer'],
    registers: [registry],
    collect() {
      const s = template.renderStats();
      this.reset();
      this.inc({ renderer: 'compiled' }, s.compiled);
      this.inc({ renderer: 'interpreter' }, s.interpreted);
    },
  });
  new Counter({
    name: 'chunkmesh_router_chat_template_compiler_faults_total',
    help: 'Renders the compiled chat template failed on with an error of its own where the interpreter rendered (a compiler bug; the interpreter served them)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(template.renderStats().compilerFaults);
    },
  });
}
