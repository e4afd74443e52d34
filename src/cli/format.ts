// Pure text formatting for the CLI: aligned tables, IEC byte sizes, bit rates, durations and tolerant readers of JSON values.

export interface Column {
  readonly title: string;
  /** Numbers read best right-aligned. */
  readonly align?: 'left' | 'right';
}

/** A plain-text table: upper-case titles, columns two spaces apart, no trailing spaces. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const all = [columns.map((c) => c.title.toUpperCase()), ...rows];
  const widths = columns.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const lines = all.map((row) =>
    columns
      .map((col, i) => {
        const cell = row[i] ?? '';
        const width = widths[i] ?? 0;
        return col.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
  return lines.join('\n');
}

/** `Label:  value` lines with the values aligned (a multi-line value stays in its column); undefined values are left out. */
export function formatFields(fields: ReadonlyArray<readonly [string, string | undefined]>): string {
  const shown = fields.filter((f): f is readonly [string, string] => f[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  const indent = '\n' + ' '.repeat(width + 2);
  return shown.map(([k, v]) => `${(k + ':').padEnd(width)}  ${v.split('\n').join(indent)}`).join('\n');
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** IEC sizes: 512 B, 1.5 KiB, 20.0 MiB; bytes are always whole. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // 1023.96 KiB would print as "1024.0 KiB": move up a unit when rounding reaches 1024.
  if (Number(value.toFixed(1)) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

const RATE_UNITS = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'];

/** Bit rates in SI units (as players and providers quote them): 850 kbit/s, 12.3 Mbit/s. */
export function formatBitrate(bitsPerSecond: number): string {
  if (!Number.isFinite(bitsPerSecond) || bitsPerSecond < 0) return '-';
  let value = bitsPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < RATE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 || value >= 100 ? `${Math.round(value)} ${RATE_UNITS[unit]}` : `${value.toFixed(1)} ${RATE_UNITS[unit]}`;
}

/** The two largest units: 45s, 3m 07s, 2h 05m, 3d 04h. */
export function formatDuration(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0) return '-';
  const s = Math.floor(totalSeconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${two(h)}h`;
  if (h > 0) return `${h}h ${two(m)}m`;
  if (m > 0) return `${m}m ${two(sec)}s`;
  return `${sec}s`;
}

/** "12s ago" from an ISO timestamp, relative to `nowMs`; the raw text when it does not parse. */
export function formatAgo(iso: string | undefined, nowMs: number): string {
  if (iso === undefined) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${formatDuration(Math.max(0, (nowMs - t) / 1000))} ago`;
}

/** An ISO timestamp to the second, e.g. 2024-05-01 12:00:03Z. */
export function formatTime(iso: string | undefined): string {
  if (iso === undefined) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// Tolerant readers: the server's JSON is unknown at this edge; a missing or mistyped field shows as '-' rather than crashing.

export type JsonObject = Record<string, unknown>;

export function asObject(v: unknown): JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {};
}

export function asObjects(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.map(asObject) : [];
}

export function str(o: JsonObject, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export function num(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function strings(o: JsonObject, key: string): string[] {
  const v = o[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Shorthands for table cells. */
export const cell = {
  text: (v: string | undefined): string => (v === undefined || v === '' ? '-' : v),
  int: (v: number | undefined): string => (v === undefined ? '-' : String(v)),
  bytes: (v: number | undefined): string => (v === undefined ? '-' : formatBytes(v)),
  yesNo: (v: unknown): string => (v === true ? 'yes' : v === false ? 'no' : '-'),
};
