// Memory (issue 24 item 7, SPEC §15): idle RSS, RSS per viewer of ONE 4 Mbit/s live channel at 100 and 500 viewers
// (the proxy shares one upstream among them, §5.5; Node's floor and nginx give each its own), and RSS after a burst of
// 10,000 client records (HLS clients of 10 live playlists; the others take the same 10,000 GETs), sampled until
// `settleMs` after the burst ended. The proxy and the floor are fresh processes for every figure (a heap grown by an
// earlier figure would hide or fake the next); nginx is the bench's one instance. Bounded: every load job ends by
// itself (load.ts), every wait is a fixed sleep.
import { setTimeout as sleep } from 'node:timers/promises';
import { startFloor } from './floor-process.ts';
import type { PacedResult, SegmentsResult } from './load.ts';
import { LIVE_RATE_BPS } from './paced.ts';
import { createStream, proxyMemory, startProxy, type Children } from './proxy.ts';
import { log, rotated, type Target } from './results.ts';
import { median, sampleTree } from './stats.ts';

export interface MemoryRun {
  load: Children;
  /** The bench's nginx (a plain reverse proxy to the same origin), or undefined. */
  nginx: Target | undefined;
  quick: boolean;
  reps: number;
}

type Column = 'proxy' | 'floor' | 'nginx';

/** A process under test for one figure: its pids, where origin paths are played, and how it ends. */
interface Subject {
  column: Column;
  pids(): number[];
  /** The URL a player of the origin path `path` opens. */
  urlFor(path: string, k: number): Promise<string>;
  /** The proxy's base URL, for its /metrics memory breakdown. */
  proxyBase?: string;
  stop(): Promise<void>;
}

const VIEWER_COUNTS = [100, 500] as const;
const BURST_RECORDS = 10_000;
/** Live playlists of the burst: MAX_CLIENTS_PER_STREAM (1000) clients each, MAX_CLIENTS (10,000) in all. */
const BURST_STREAMS = 10;
const BURST_CONCURRENCY = 50;

/** Median RSS over a few samples a quarter second apart. */
async function settledRss(pids: () => number[], samples = 4): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    xs.push(sampleTree(pids()).rssBytes);
    await sleep(250);
  }
  return median(xs);
}

/** A fresh proxy, a fresh floor, or the bench's nginx, as a Subject. */
async function subject(column: Column, run: MemoryRun, originBase: string): Promise<Subject | undefined> {
  if (column === 'nginx') {
    const n = run.nginx;
    if (n === undefined) return undefined;
    return { column, pids: n.pids, urlFor: async (path) => n.base + path, stop: async () => undefined };
  }
  if (column === 'floor') {
    const f = await startFloor(run.load.originPort);
    return { column, pids: () => [f.pid], urlFor: async (path) => f.base + path, stop: f.stop };
  }
  const p = await startProxy();
  const endpoints = new Map<string, string>();
  return {
    column,
    pids: () => [p.pid],
    proxyBase: p.base,
    urlFor: async (path, k) => {
      let e = endpoints.get(path);
      if (e === undefined) {
        const s = await createStream(p.base, originBase + path);
        if ('error' in s) throw new Error(s.error);
        endpoints.set(path, (e = p.base + s.endpoint));
      }
      return `${e}${e.includes('?') ? '&' : '?'}client_id=mem-${k}`;
    },
    stop: p.stop,
  };
}

/**
 * KB of RSS per viewer: (median RSS in the window − RSS before the first viewer) / viewers answered 200; and the
 * process's CPU seconds per GB delivered in the window (what a memory setting costs in throughput).
 */
async function perViewer(s: Subject, run: MemoryRun, viewers: number, tag: string): Promise<{ kb: number; cpu: number } | undefined> {
  const path = `/live/${tag}.ts?rate=${LIVE_RATE_BPS}&ms=120000`;
  const urls: string[] = [];
  for (let k = 0; k < viewers; k++) urls.push(await s.urlFor(path, k));
  const before = await settledRss(s.pids);
  const memBefore = s.proxyBase === undefined ? {} : await proxyMemory(s.proxyBase);
  const rss: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let memDuring: Promise<Record<string, number>> = Promise.resolve({});
  let cpu0 = 0;
  let cpu1 = 0;
  let t0 = 0;
  let t1 = 0;
  const measureMs = run.quick ? 3000 : 4000;
  const r = (await run.load.run({ kind: 'paced', urls, clients: viewers, warmupMs: run.quick ? 2000 : 3000, measureMs, halfMs: 0 }, (phase) => {
    if (phase === 'measuring') {
      cpu0 = sampleTree(s.pids()).cpuS;
      t0 = performance.now();
      sampler = setInterval(() => rss.push(sampleTree(s.pids()).rssBytes), 250);
      if (s.proxyBase !== undefined) {
        const base = s.proxyBase;
        memDuring = sleep(measureMs / 2).then(() => proxyMemory(base));
      }
    } else if (phase === 'measured') {
      clearInterval(sampler);
      cpu1 = sampleTree(s.pids()).cpuS;
      t1 = performance.now();
    }
  })) as PacedResult;
  clearInterval(sampler);
  if (r.connected === 0 || rss.length === 0) return undefined;
  const kb = (median(rss) - before) / r.connected / 1024;
  const gb = ((r.rates.reduce((a, b) => a + b, 0) / 8) * ((t1 - t0) / 1000)) / 1e9;
  const cpu = gb > 0 ? (cpu1 - cpu0) / gb : Number.NaN;
  const slow = r.rates.filter((b) => b < LIVE_RATE_BPS * 0.95).length;
  const mem = await memDuring;
  const breakdown = Object.entries(mem).map(([k, v]) => `${k} ${((v - (memBefore[k] ?? 0)) / r.connected / 1024).toFixed(1)}`).join(', ');
  log(`memory ${s.column} × ${viewers}: ${kb.toFixed(1)} KB/viewer (RSS ${(before / 1048576).toFixed(1)} → ${(median(rss) / 1048576).toFixed(1)} MiB), ${r.connected} connected, ${slow} below 95% of the rate, ${cpu.toFixed(2)} CPU s/GB${breakdown === '' ? '' : `; per viewer from /metrics (KB): ${breakdown}`}`);
  return { kb, cpu };
}

/** The burst on one subject: returns the RSS before it and the time it ended; the caller samples after. */
async function burst(s: Subject, run: MemoryRun, rep: number): Promise<{ idle: number; peak: number; endedAt: number }> {
  const urls: string[] = [];
  for (let k = 0; k < BURST_RECORDS; k++) urls.push(await s.urlFor(`/hls/live.m3u8?b=${rep}-${k % BURST_STREAMS}`, k));
  const idle = await settledRss(s.pids);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, sampleTree(s.pids()).rssBytes)), 100);
  const r = (await run.load.run({ kind: 'segments', urls, concurrency: BURST_CONCURRENCY, durationMs: 60_000, maxRequests: BURST_RECORDS })) as SegmentsResult;
  clearInterval(sampler);
  log(`memory ${s.column} burst: ${r.requests} GETs in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.errors} errors, RSS ${(idle / 1048576).toFixed(1)} → peak ${(peak / 1048576).toFixed(1)} MiB`);
  return { idle, peak, endedAt: performance.now() };
}

/** BENCH_MEMORY_COLUMNS=proxy (comma-separated) measures only those, e.g. to compare the proxy's node flags quickly. */
const COLUMNS: readonly Column[] = (['proxy', 'floor', 'nginx'] as const).filter((c) => (process.env['BENCH_MEMORY_COLUMNS'] ?? c).split(',').includes(c));

/** Runs the section; returns its table (medians of `reps` runs, ratios of the medians). */
export async function benchMemory(run: MemoryRun): Promise<string> {
  const originBase = `http://127.0.0.1:${run.load.originPort}`;
  const figures = new Map<string, Map<Column, number[]>>();
  const add = (row: string, c: Column, v: number | undefined): void => {
    if (v === undefined || !Number.isFinite(v)) return;
    let m = figures.get(row);
    if (m === undefined) figures.set(row, (m = new Map()));
    m.set(c, [...(m.get(c) ?? []), v]);
  };
  const settleMs = run.quick ? 15_000 : 60_000;
  log(`memory: idle RSS, RSS per viewer at ${VIEWER_COUNTS.join(' and ')}, ${BURST_RECORDS} client records then ${settleMs / 1000} s…`);
  for (let rep = 0; rep < run.reps; rep++) {
    for (const viewers of VIEWER_COUNTS) {
      for (const c of rotated(COLUMNS, rep + viewers)) {
        const s = await subject(c, run, originBase);
        if (s === undefined) continue;
        try {
          await sleep(1000);
          if (viewers === VIEWER_COUNTS[0] && c !== 'nginx') add('idle', c, (await settledRss(s.pids)) / 1048576);
          const r = await perViewer(s, run, viewers, `mem-${c}-${rep}-${viewers}`);
          add(`per${viewers}`, c, r?.kb);
          add(`cpu${viewers}`, c, r?.cpu);
        } finally {
          await s.stop();
        }
      }
    }
    // The burst: every subject in turn, then all settle together until the last one has had settleMs.
    const subjects: Subject[] = [];
    try {
      const ends: Array<{ s: Subject; idle: number; peak: number; endedAt: number }> = [];
      for (const c of rotated(COLUMNS, rep)) {
        const s = await subject(c, run, originBase);
        if (s === undefined) continue;
        subjects.push(s);
        await sleep(1000);
        ends.push({ s, ...(await burst(s, run, rep)) });
      }
      const last = Math.max(...ends.map((e) => e.endedAt));
      const samples = new Map<Subject, Array<{ at: number; rss: number }>>(ends.map((e) => [e.s, []]));
      while (performance.now() < last + settleMs + 500) {
        for (const e of ends) samples.get(e.s)?.push({ at: performance.now() - e.endedAt, rss: sampleTree(e.s.pids()).rssBytes });
        await sleep(1000);
      }
      for (const e of ends) {
        const xs = samples.get(e.s) ?? [];
        const at = xs.filter((x) => x.at >= settleMs).slice(0, 3).map((x) => x.rss);
        add('burstPeak', e.s.column, (e.peak - e.idle) / 1048576);
        add('burstAfter', e.s.column, (median(at) - e.idle) / 1048576);
        const trace = xs.filter((_, i) => i % 5 === 0).map((x) => `${(x.at / 1000).toFixed(0)}s ${((x.rss - e.idle) / 1048576).toFixed(1)}`).join(', ');
        log(`memory ${e.s.column} after the burst (MiB over idle): ${trace}`);
      }
    } finally {
      for (const s of subjects) await s.stop();
    }
  }
  return renderMemory(figures, run, settleMs);
}

function renderMemory(figures: Map<string, Map<Column, number[]>>, run: MemoryRun, settleMs: number): string {
  const cell = (row: string, c: Column): number => median(figures.get(row)?.get(c) ?? []);
  const fmt = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '-');
  const rows: Array<{ name: string; key: string; d: number; limit?: number; unit: string }> = [
    { name: 'idle RSS (MiB), fresh process', key: 'idle', d: 1, limit: 45, unit: 'MiB' },
    { name: 'RSS per viewer, 100 viewers of 1 channel (KB)', key: 'per100', d: 1, unit: 'KB' },
    { name: 'RSS per viewer, 500 viewers of 1 channel (KB)', key: 'per500', d: 1, limit: 40, unit: 'KB' },
    { name: 'CPU s/GB, 500 viewers of 1 channel', key: 'cpu500', d: 2, unit: '' },
    { name: `${BURST_RECORDS} client records: peak RSS over idle (MiB)`, key: 'burstPeak', d: 1, unit: 'MiB' },
    { name: `${BURST_RECORDS} client records: RSS over idle ${settleMs / 1000} s after (MiB)`, key: 'burstAfter', d: 1, limit: 32, unit: 'MiB' },
  ];
  const lines = [
    `Memory (medians of ${run.reps} run(s); proxy and floor fresh for every figure; viewers at 4 Mbit/s, the proxy sharing one upstream; RSS from /proc):`,
    '| metric | proxy | node floor | nginx | proxy/floor | proxy/nginx | target | ok? |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const p = cell(r.key, 'proxy');
    const ok = r.limit === undefined ? '' : !Number.isFinite(p) ? '?' : p <= r.limit ? 'ok' : 'MISS';
    lines.push(
      `| ${r.name} | ${fmt(p, r.d)} | ${fmt(cell(r.key, 'floor'), r.d)} | ${run.nginx === undefined ? 'skipped' : fmt(cell(r.key, 'nginx'), r.d)} | ${ratio(p, cell(r.key, 'floor'))} | ${ratio(p, cell(r.key, 'nginx'))} | ${r.limit === undefined ? '' : `≤ ${r.limit} ${r.unit}`} | ${ok} |`,
    );
  }
  lines.push("nginx is the bench's one instance (not fresh: its idle figure is not shown); the burst: HLS playlist GETs with 10,000 client_ids over 10 streams, 50 at a time.");
  return lines.join('\n');
}
