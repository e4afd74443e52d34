// The paced-players scenario of the bench: N players of a 4 Mbit/s live stream through one target, each one's rate,
// and the RSS and CPU per GB of the process in the middle.
import type { PacedResult } from './load.ts';
import { proxyMemory, type Children } from './proxy.ts';
import { log, missingRoute, type Name, type Results, type Target } from './results.ts';
import { median, sampleTree } from './stats.ts';

export const LIVE_RATE_BPS = 4_000_000;
const RATE_TOLERANCE = 0.05;
/** The run holds at half the players this long, to sample RSS there. */
const HALF_HOLD_MS = 2000;

export interface PacedRun {
  clients: number;
  warmupMs: number;
  measureMs: number;
  /** Metric keys are prefixed with it, so that two scenarios fill different rows. */
  prefix: string;
  /** The proxy's base URL, to read its memory breakdown from /metrics; undefined for other targets. */
  proxyBase?: string;
}

/** N players of a 4 Mbit/s live stream: each one's rate, and the RSS and CPU of the middle process. */
export async function paced(results: Results, load: Children, t: Target, urls: string[] | string, run: PacedRun): Promise<void> {
  const { clients, prefix, proxyBase } = run;
  const add = (key: string, target: Name, value: number): void => results.add(prefix + key, target, value);
  const note = (key: string, target: Name, why: string): void => results.note(prefix + key, target, why);
  if (typeof urls === 'string') {
    for (const m of ['pacedOk', 'pacedRate', 'rss', 'rssMarginal', 'pacedCpu']) note(m, t.name, urls);
    return;
  }
  await new Promise((r) => setTimeout(r, 1000));
  const baseline = sampleTree(t.pids()).rssBytes;
  // The proxy's own view of its memory, before and mid-window: where the per-player bytes live (heap or buffers).
  const memBefore = proxyBase === undefined ? {} : await proxyMemory(proxyBase);
  let memDuring: Promise<Record<string, number>> = Promise.resolve({});
  const rss: number[] = [];
  const rssHalf: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let cpuStart = 0;
  let cpuEnd = 0;
  let measureStart = 0;
  let measureEnd = 0;
  const r = (await load.run({ kind: 'paced', urls, clients, warmupMs: run.warmupMs, measureMs: run.measureMs, halfMs: HALF_HOLD_MS }, (phase) => {
    if (phase === 'half') {
      sampler = setInterval(() => rssHalf.push(sampleTree(t.pids()).rssBytes), 250);
    } else if (phase === 'half-done') {
      clearInterval(sampler);
    } else if (phase === 'measuring') {
      cpuStart = sampleTree(t.pids()).cpuS;
      measureStart = performance.now();
      sampler = setInterval(() => rss.push(sampleTree(t.pids()).rssBytes), 500);
      if (proxyBase !== undefined) memDuring = new Promise((resolve) => setTimeout(() => resolve(proxyMemory(proxyBase)), run.measureMs / 2));
    } else {
      clearInterval(sampler);
      cpuEnd = sampleTree(t.pids()).cpuS;
      measureEnd = performance.now();
    }
  })) as PacedResult;
  clearInterval(sampler);
  const why = r.connected === 0 ? missingRoute(r.statuses) : undefined;
  if (why !== undefined) {
    for (const m of ['pacedOk', 'pacedRate', 'rss', 'rssMarginal', 'pacedCpu']) note(m, t.name, why);
    return;
  }
  const okCount = r.rates.filter((bps) => Math.abs(bps - LIVE_RATE_BPS) <= LIVE_RATE_BPS * RATE_TOLERANCE).length;
  add('pacedOk', t.name, okCount);
  add('pacedRate', t.name, median(r.rates) / 1e6);
  add('pacedMin', t.name, Math.min(...r.rates) / 1e6);
  if (t.name !== 'direct') {
    // Per player actually served: when fewer than all connected, dividing by all would flatter the figure.
    add('rss', t.name, (median(rss) - baseline) / Math.max(1, r.connected) / 1024);
    // The second half's players alone: excludes the one-off growth (V8 heap sizing, code) that the first traffic causes.
    const added = r.connected - r.connectedAtHalf;
    if (added >= clients / 10) add('rssMarginal', t.name, (median(rss) - median(rssHalf)) / added / 1024);
    else note('rssMarginal', t.name, `n/a (${added} players added)`);
    // Per GB delivered, so that a target serving fewer players does not look cheaper.
    const gb = (r.rates.reduce((a, b) => a + b, 0) / 8) * ((measureEnd - measureStart) / 1000) / 1e9;
    if (gb > 0) add('pacedCpu', t.name, (cpuEnd - cpuStart) / gb);
  }
  const mem = await memDuring;
  if (proxyBase !== undefined && r.connected > 0) {
    const per = Object.entries(mem).map(([k, v]) => `${k} ${(((v - (memBefore[k] ?? 0)) / r.connected) / 1024).toFixed(0)}`).join(', ');
    log(`paced proxy memory growth per player (KB, from /metrics mid-window): ${per || 'n/a'}`);
  }
  const statusText = Object.entries(r.statuses).map(([k, v]) => `${k}×${v}`).join(' ');
  log(`paced${prefix === '' ? '' : ` (${prefix})`} ${t.name}: ${okCount}/${clients} at rate, ${r.connected} connected (${statusText}), median ${(median(r.rates) / 1e6).toFixed(2)} Mbit/s, min ${(Math.min(...r.rates) / 1e6).toFixed(2)}, baseline RSS ${(baseline / 1048576).toFixed(0)} MiB, peak ${(Math.max(...rss, 0) / 1048576).toFixed(0)} MiB`);
}
