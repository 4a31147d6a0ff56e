// The Grafana JSON this project's dashboards use, built from a few plain functions: a dashboard
// with the ${datasource} and namespace variables, rows, stat and time-series panels laid out on
// Grafana's 24-column grid, and Prometheus targets. Every panel and target names the datasource
// variable, never a fixed uid, so the dashboards import into any Grafana.

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** The label matcher every query carries: the namespace variable (a release's namespace). */
export const S = 'namespace=~"$namespace"';

export interface Target {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  kind: 'stat' | 'timeseries';
  unit: string;
  targets: Target[];
  /** Grid width (of 24); stats default to 6, time series to 12. */
  width?: number;
  stacked?: boolean;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  rows: RowSpec[];
}

export const q = (expr: string, legend = ''): Target => ({ expr, legend });

/** num / den without NaN when den is 0 (idle periods draw nothing instead of NaN). */
export const ratio = (num: string, den: string): string => `${num} / (${den} > 0)`;

/** rate() over Grafana's $__rate_interval, of a metric under the namespace matcher plus `extra`. */
export const rate = (metric: string, extra = ''): string =>
  `rate(${metric}{${[S, extra].filter(Boolean).join(',')}}[$__rate_interval])`;

/** Quantile of a histogram's buckets, summed by `by` and le. */
export const quantile = (phi: number, metric: string, by = ''): string =>
  `histogram_quantile(${phi}, sum by (${[by, 'le'].filter(Boolean).join(', ')}) (${rate(`${metric}_bucket`)}))`;

export const stat = (title: string, description: string, unit: string, target: Target): PanelSpec => ({
  title,
  description,
  kind: 'stat',
  unit,
  targets: [target],
});

export const timeseries = (
  title: string,
  description: string,
  unit: string,
  targets: Target[],
  options: { width?: number; stacked?: boolean } = {},
): PanelSpec => ({ title, description, kind: 'timeseries', unit, targets, ...options });

const REF_IDS = 'ABCDEFGHIJ';

function panelJson(p: PanelSpec, id: number, gridPos: object): object {
  return {
    id,
    type: p.kind,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: {
      defaults: {
        unit: p.unit,
        ...(p.kind === 'timeseries'
          ? {
              custom: { fillOpacity: p.stacked ? 30 : 10, stacking: { mode: p.stacked ? 'normal' : 'none' } },
            }
          : {}),
        ...(p.kind === 'stat' ? { noValue: 'No traffic' } : {}),
      },
      overrides: [],
    },
    options:
      p.kind === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' }
        : {
            legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max'] },
            tooltip: { mode: 'multi' },
          },
    targets: p.targets.map((t, i) => ({
      refId: REF_IDS[i],
      datasource: DATASOURCE,
      expr: t.expr,
      legendFormat: t.legend,
      range: true,
    })),
  };
}

/** The dashboard's JSON model (Grafana 10+): rows, each a line of panels wrapped at 24 columns. */
export function dashboardJson(d: DashboardSpec): object {
  const panels: object[] = [];
  let id = 1;
  let y = 0;
  for (const row of d.rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? (p.kind === 'stat' ? 6 : 12);
      const h = p.kind === 'stat' ? 4 : 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panelJson(p, id++, { h, w, x, y }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['chunkmesh'],
    editable: true,
    graphTooltip: 1,
    refresh: '30s',
    schemaVersion: 39,
    time: { from: 'now-3h', to: 'now' },
    timezone: '',
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Prometheus',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
        },
        {
          name: 'namespace',
          label: 'Namespace',
          type: 'query',
          datasource: DATASOURCE,
          query: { query: 'label_values(chunkmesh_kv_capacity_bytes, namespace)', refId: 'namespace' },
          definition: 'label_values(chunkmesh_kv_capacity_bytes, namespace)',
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: {},
          refresh: 2,
          hide: 0,
        },
      ],
    },
    annotations: { list: [] },
    links: [],
    panels,
  };
}

/** Every query of a dashboard with the panel it belongs to. */
export function queries(d: DashboardSpec): { panel: string; expr: string }[] {
  return d.rows.flatMap((r) =>
    r.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr }))),
  );
}
