// The shared-channel scenario of the bench (SPEC §5.5): many viewers of ONE live TS channel through each target.
// Figures: provider connections (open origin responses for the channel), CPU s/GB of the process in the middle, RSS
// per viewer, the slowest viewer's rate, and join-to-first-byte of viewers joining the running channel.
import { performance } from 'node:perf_hooks';
import { firstByteMs } from './first-byte.ts';
import type { PacedResult } from './load.ts';
import { LIVE_RATE_BPS } from './paced.ts';
import { createStream, httpGet, type Children } from './proxy.ts';
import { log, missingRoute, type Results, type Target } from './results.ts';
import { median, sampleTree } from './stats.ts';
import type { Row } from './table.ts';

export const SHARED_METRICS = ['shConn', 'shCpu', 'shRss', 'shMin', 'shTtfb'] as const;

export interface SharedRun {
  viewers: number;
  warmupMs: number;
  measureMs: number;
  /** Viewers joining the running channel one after another during the window, timed to their first byte. */
  joinProbes: number;
}

/** One run of `run.viewers` players of one channel through `t`; `rep` makes the channel's tag unique per run. */
export async function sharedChannel(results: Results, load: Children, t: Target, originBase: string, proxyBase: string | undefined, run: SharedRun, rep: number): Promise<void> {
  const tag = `one-${t.name}-${rep}`;
  const channel = `/live/${tag}.ts?rate=${LIVE_RATE_BPS}&ms=${run.warmupMs + run.measureMs + 30_000}`;
  let url = `${t.base}${channel}`;
  if (t.name === 'proxy') {
    const s = proxyBase === undefined ? { error: 'no proxy' } : await createStream(proxyBase, originBase + channel);
    if ('error' in s) {
      for (const m of SHARED_METRICS) results.note(m, t.name, `n/a (${s.error})`);
      return;
    }
    url = `${proxyBase}${s.endpoint}`;
  }
  const urls = Array.from({ length: run.viewers }, (_, k) => `${url}${url.includes('?') ? '&' : '?'}client_id=bench-v${k}`);
  await new Promise((r) => setTimeout(r, 500));
  const baseline = sampleTree(t.pids()).rssBytes;
  const rss: number[] = [];
  const joins: Promise<number | undefined>[] = [];
  let conns: Promise<number | undefined> = Promise.resolve(undefined);
  let sampler: NodeJS.Timeout | undefined;
  let cpuStart = 0;
  let cpuEnd = 0;
  let measureStart = 0;
  let measureEnd = 0;
  const r = (await load.run({ kind: 'paced', urls, clients: run.viewers, warmupMs: run.warmupMs, measureMs: run.measureMs, halfMs: 0 }, (phase) => {
    if (phase === 'measuring') {
      cpuStart = sampleTree(t.pids()).cpuS;
      measureStart = performance.now();
      sampler = setInterval(() => rss.push(sampleTree(t.pids()).rssBytes), 500);
      conns = httpGet(`${originBase}/stats/live`).then((a) => (a === undefined ? undefined : ((JSON.parse(a.body) as Record<string, number>)[tag] ?? 0)));
      // Late joiners, one after another, spread over the first half of the window.
      joins.push(
        (async () => {
          const ms: number[] = [];
          for (let i = 0; i < run.joinProbes; i++) {
            const v = await firstByteMs(url);
            if (v !== undefined) ms.push(v);
            await new Promise((res) => setTimeout(res, run.measureMs / 2 / run.joinProbes));
          }
          return ms.length === 0 ? undefined : median(ms);
        })(),
      );
    } else if (phase === 'measured') {
      clearInterval(sampler);
      cpuEnd = sampleTree(t.pids()).cpuS;
      measureEnd = performance.now();
    }
  })) as PacedResult;
  clearInterval(sampler);
  const why = r.connected === 0 ? missingRoute(r.statuses) : undefined;
  if (why !== undefined) {
    for (const m of SHARED_METRICS) results.note(m, t.name, why);
    return;
  }
  const providerConns = await conns;
  if (providerConns !== undefined) results.add('shConn', t.name, providerConns);
  results.add('shMin', t.name, Math.min(...r.rates) / 1e6);
  const join = (await Promise.all(joins))[0];
  if (join !== undefined) results.add('shTtfb', t.name, join);
  if (t.name !== 'direct') {
    results.add('shRss', t.name, (median(rss) - baseline) / Math.max(1, r.connected) / 1024);
    const gb = ((r.rates.reduce((a, b) => a + b, 0) / 8) * ((measureEnd - measureStart) / 1000)) / 1e9;
    if (gb > 0) results.add('shCpu', t.name, (cpuEnd - cpuStart) / gb);
  }
  log(`one channel × ${run.viewers} via ${t.name}: ${r.connected} connected, provider connections ${providerConns ?? '?'}, slowest ${(Math.min(...r.rates) / 1e6).toFixed(2)} Mbit/s, join ${join?.toFixed(1) ?? '?'} ms`);
}

/** The report rows of this scenario. */
export function sharedChannelRows(viewers: number, row: (metric: string, key: string, digits: number, target: Row['target'], reduce?: (xs: number[]) => number) => Row): Row[] {
  const none = { kind: 'none' } as const;
  return [
    row(`1 channel × ${viewers} viewers: provider connections`, 'shConn', 0, { kind: 'absolute', op: '<=', value: 1, unit: 'connections' }),
    row(`1 channel × ${viewers} viewers: CPU s/GB`, 'shCpu', 2, none),
    row(`1 channel × ${viewers} viewers: RSS per viewer (KB)`, 'shRss', 1, none),
    row(`1 channel × ${viewers} viewers: slowest viewer Mbit/s`, 'shMin', 2, none),
    row(`1 channel × ${viewers} viewers: join to first byte (ms)`, 'shTtfb', 2, none),
  ];
}
