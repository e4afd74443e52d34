// The bench's result table: one row per metric with direct, proxy and nginx figures, the two ratios and the target.

/** A figure, or why there is none ('n/a (route missing)', 'skipped (no nginx)'). */
export type Cell = number | string | undefined;

export type Target =
  | { kind: 'vs-nginx'; op: '>=' | '<='; factor: number }
  | { kind: 'absolute'; op: '>=' | '<='; value: number; unit: string }
  | { kind: 'none' };

export interface Row {
  metric: string;
  direct: Cell;
  proxy: Cell;
  nginx: Cell;
  target: Target;
  /** Decimals for the three figures. */
  digits: number;
}

function show(c: Cell, digits: number): string {
  if (c === undefined) return '-';
  if (typeof c === 'string') return c;
  if (!Number.isFinite(c)) return c > 0 ? 'timeout' : 'n/a';
  return c.toFixed(digits);
}

function ratio(a: Cell, b: Cell): number | undefined {
  return typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : undefined;
}

function targetText(t: Target): string {
  if (t.kind === 'vs-nginx') return `${t.op === '>=' ? '≥' : '≤'} ${t.factor}× nginx`;
  if (t.kind === 'absolute') return `${t.op === '>=' ? '≥' : '≤'} ${t.value} ${t.unit}`;
  return '';
}

function verdict(r: Row): string {
  const t = r.target;
  if (t.kind === 'none') return '';
  const cmp = (x: number, op: '>=' | '<=', y: number): string => ((op === '>=' ? x >= y : x <= y) ? 'ok' : 'MISS');
  if (t.kind === 'absolute') {
    if (typeof r.proxy !== 'number') return '?';
    return cmp(r.proxy, t.op, t.value);
  }
  const q = ratio(r.proxy, r.nginx);
  return q === undefined ? '?' : cmp(q, t.op, t.factor);
}

/** Renders rows as an aligned text table. */
export function renderTable(rows: readonly Row[]): string {
  const head = ['metric', 'direct', 'proxy', 'nginx', 'proxy/direct', 'proxy/nginx', 'target', 'ok?'];
  const body = rows.map((r) => {
    const pd = ratio(r.proxy, r.direct);
    const pn = ratio(r.proxy, r.nginx);
    return [
      r.metric,
      show(r.direct, r.digits),
      show(r.proxy, r.digits),
      show(r.nginx, r.digits),
      pd === undefined ? '-' : `${pd.toFixed(2)}×`,
      pn === undefined ? '-' : `${pn.toFixed(2)}×`,
      targetText(r.target),
      verdict(r),
    ];
  });
  const all = [head, ...body];
  const widths = head.map((_, c) => Math.max(...all.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]): string =>
    '| ' + row.map((cell, c) => (c === 0 || c >= 6 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join(' | ') + ' |';
  const rule = '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|';
  return [line(head), rule, ...body.map(line)].join('\n');
}
