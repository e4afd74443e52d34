// Prometheus text exposition format 0.0.4: turns metric families (plain data) into the text a scraper reads.
// Pure: no clocks, no state. Spec: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  /** Appended to the family name: '' for counters and gauges, '_bucket'/'_sum'/'_count' for histograms. */
  readonly suffix?: '' | '_bucket' | '_sum' | '_count';
  readonly labels?: Labels;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

/** One histogram series: `counts[i]` observations fell in (bounds[i-1], bounds[i]]; the last entry is the +Inf bucket. */
export interface HistogramSeries {
  readonly labels?: Labels;
  /** Ascending, finite upper bounds; +Inf is implied. */
  readonly bounds: readonly number[];
  /** Per-bucket (not cumulative) counts, length bounds.length + 1. */
  readonly counts: readonly number[];
  readonly sum: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label values escape backslash, double quote and line feed (and nothing else). */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

/** HELP text escapes backslash and line feed only. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** Go's ParseFloat spellings, which Prometheus reads: +Inf, -Inf, NaN; integers without exponent where exact. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels) return '';
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new TypeError(`invalid label name: ${name}`);
    parts.push(`${name}="${escapeLabelValue(value)}"`);
  }
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Expands histogram series into cumulative _bucket samples (with le) plus _sum and _count. */
export function histogramSamples(series: readonly HistogramSeries[]): Sample[] {
  const out: Sample[] = [];
  for (const s of series) {
    if (s.counts.length !== s.bounds.length + 1) throw new TypeError('histogram counts must have bounds.length + 1 entries');
    let cumulative = 0;
    for (let i = 0; i <= s.bounds.length; i++) {
      cumulative += s.counts[i] ?? 0;
      const le = i < s.bounds.length ? formatValue(s.bounds[i] ?? Infinity) : '+Inf';
      out.push({ suffix: '_bucket', labels: { ...s.labels, le }, value: cumulative });
    }
    out.push({ suffix: '_sum', labels: s.labels, value: s.sum });
    out.push({ suffix: '_count', labels: s.labels, value: cumulative });
  }
  return out;
}

/**
 * Renders families in the given order; each gets exactly one HELP and one TYPE line, then its samples.
 * Names are checked here so a typo fails a test instead of producing a scrape the server rejects.
 */
export function renderMetrics(families: readonly MetricFamily[]): string {
  const seen = new Set<string>();
  let text = '';
  for (const f of families) {
    if (!METRIC_NAME.test(f.name)) throw new TypeError(`invalid metric name: ${f.name}`);
    if (seen.has(f.name)) throw new TypeError(`duplicate metric family: ${f.name}`);
    seen.add(f.name);
    text += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      text += `${f.name}${s.suffix ?? ''}${formatLabels(s.labels)} ${formatValue(s.value)}\n`;
    }
  }
  return text;
}
