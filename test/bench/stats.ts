// Small statistics and /proc readers for the bench: medians, percentiles, and a process's CPU time and RSS.
import { readFileSync, readdirSync } from 'node:fs';

/** Nearest-rank percentile (p in 0..100) of the finite values; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  const rank = Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1));
  return xs[rank] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? (xs[mid] ?? Number.NaN) : ((xs[mid - 1] ?? 0) + (xs[mid] ?? 0)) / 2;
}

/** Clock ticks per second of /proc/<pid>/stat utime and stime (USER_HZ, 100 on every Linux build in practice). */
const CLOCK_TICKS_PER_S = 100;

/** Fields after the `(comm)` of /proc/<pid>/stat; comm may hold spaces and parentheses, so split after the last ')'. */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined; // process gone
    throw err;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU seconds of a process (all its threads), or 0 when it is gone. */
export function cpuSecondsOf(pid: number): number {
  const f = statFields(pid);
  if (f === undefined) return 0;
  // After the comm: state(0) ppid(1) ... utime(11) stime(12).
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_S;
}

/** Resident set size in bytes (VmRSS), or 0 when the process is gone. */
export function rssBytesOf(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return 0; // process gone
    throw err;
  }
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Direct children of a process (nginx workers of its master). */
export function childPidsOf(parent: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f !== undefined && Number(f[1]) === parent) out.push(Number(name));
  }
  return out;
}

/** Sum of CPU seconds and RSS over a set of pids (a process tree), read at one instant. */
export function sampleTree(pids: readonly number[]): { cpuS: number; rssBytes: number } {
  let cpuS = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    cpuS += cpuSecondsOf(pid);
    rssBytes += rssBytesOf(pid);
  }
  return { cpuS, rssBytes };
}

/** CPU seconds by thread kind of a process: `main` (the event loop) and the others by their name (V8 workers, libuv). */
export function cpuByThreadOf(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out; // process gone
    throw err;
  }
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // thread gone
      throw err;
    }
    const name = Number(tid) === pid ? 'main' : text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')).trim();
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_S;
  }
  return out;
}
