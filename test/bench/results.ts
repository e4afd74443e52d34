// The bench's figures: samples per metric and target, reasons shown instead of a figure, and small helpers the
// scenarios share. One store per bench run, created by run.ts.
import { performance } from 'node:perf_hooks';
import { median } from './stats.ts';
import type { Cell } from './table.ts';

export type Name = 'direct' | 'proxy' | 'nginx';
export const NAMES: readonly Name[] = ['direct', 'proxy', 'nginx'];

/** Where a target is, which processes to charge its CPU to, or why it cannot be measured. */
export interface Target {
  name: Name;
  /** Base URL for origin paths (direct and nginx); the proxy maps paths through its stream endpoints instead. */
  base: string;
  pids: () => number[];
  missing?: string;
}

export interface Results {
  add(metric: string, name: Name, value: number): void;
  /** A reason shown instead of a figure; the first one given wins. */
  note(metric: string, name: Name, why: string): void;
  cell(metric: string, name: Name, reduce?: (xs: number[]) => number): Cell;
  /** The samples of one cell (for counts in the report). */
  samplesOf(metric: string, name: Name): readonly number[];
}

export function createResults(): Results {
  const samples = new Map<string, Map<Name, number[]>>();
  const notes = new Map<string, Map<Name, string>>();
  return {
    add(metric, name, value) {
      let m = samples.get(metric);
      if (m === undefined) samples.set(metric, (m = new Map()));
      let xs = m.get(name);
      if (xs === undefined) m.set(name, (xs = []));
      xs.push(value);
    },
    note(metric, name, why) {
      let m = notes.get(metric);
      if (m === undefined) notes.set(metric, (m = new Map()));
      if (!m.has(name)) m.set(name, why);
    },
    cell(metric, name, reduce = median) {
      const why = notes.get(metric)?.get(name);
      const xs = samples.get(metric)?.get(name);
      if (xs !== undefined && xs.length > 0) return reduce(xs);
      return why;
    },
    samplesOf(metric, name) {
      return samples.get(metric)?.get(name) ?? [];
    },
  };
}

const t0 = performance.now();

/** Progress on stderr, with the seconds since the bench started. */
export const log = (msg: string): void => void process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

/** Targets in a different order on each run, so that drift on a shared machine does not favour one column. */
export function rotated<T>(xs: readonly T[], by: number): T[] {
  return xs.map((_, i) => xs[(i + by) % xs.length] as T);
}

/** Why a target answered nothing usable, or undefined when it answered 200/206. */
export function missingRoute(statuses: Record<string, number>): string | undefined {
  if ((statuses['404'] ?? 0) > 0 || (statuses['405'] ?? 0) > 0) return 'n/a (route missing)';
  const ok = (statuses['200'] ?? 0) + (statuses['206'] ?? 0);
  if (ok > 0) return undefined;
  const seen = Object.entries(statuses).map(([k, v]) => `${k}×${v}`).join(' ');
  return `n/a (${seen || 'no answer'})`;
}
