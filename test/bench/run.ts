// `npm run bench`: starts the origin, the load client, nginx (when installed) and the proxy on 127.0.0.1, measures
// continuous/VOD and HLS playback against each, and prints one table of medians and ratios. Not run by CI.
// Flags: --quick (about a minute: one run per figure, shorter windows),
// --only=tput,ttfb,disc,hls,cold,hlsviewers,paced,small,shared,state,hooks,transcode,relay,firstbyte,memory
// (cold: only the HLS playlist rows, first fetch on a new stream, median of COLD_REPS runs).
// BENCH_PROXY_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' passes node flags to the proxy process alone.
import os from 'node:os';
import { CLOSE_WAIT_MS, disconnectTrial } from './disconnect.ts';
import type { PlaylistResult, SegmentsResult, ThroughputResult, TtfbResult } from './load.ts';
import { hlsViewers } from './hls-viewers.ts';
import { findNginx, NGINX_SETUP, startNginx, type Nginx } from './nginx.ts';
import { HLS_SEGMENTS, startOrigin, type Origin } from './origin.ts';
import { LIVE_RATE_BPS, paced } from './paced.ts';
import { createStream, freePort, startChildren, startProxy, statusOf, type Children, type ProxyProcess } from './proxy.ts';
import { SHARED_METRICS, sharedChannel, sharedChannelRows } from './shared-channel.ts';
import { createResults, log, missingRoute, rotated, type Target } from './results.ts';
import { median, percentile, sampleTree } from './stats.ts';
import { benchState } from './state.ts';
import { benchRelay } from './cluster-relay.ts';
import { benchTranscode } from './transcode.ts';
import { benchWebhooks, webhookRows } from './webhooks.ts';
import { benchFirstByte } from './first-byte.ts';
import { benchMemory } from './memory.ts';
import { renderTable, type Row } from './table.ts';

const QUICK = process.argv.includes('--quick');
/** Players of the small-writes scenario: fewer than 500, since every 1316-byte write costs the origin too. */
const SMALL_WRITE_PLAYERS = 100;
/** --only=tput,ttfb,disc,hls,paced,small,state,hooks: run those sections alone (for working on one figure). */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const want = (section: string): boolean => ONLY === undefined || ONLY.includes(section);
const P = QUICK
  ? { reps: 1, tputMs: 1500, ttfbCount: 60, discTrials: 6, paced: 500, pacedWarmMs: 2500, pacedMeasureMs: 5000, playlistRepeats: 10, segMs: 1500 }
  : { reps: 3, tputMs: 3000, ttfbCount: 200, discTrials: 15, paced: 500, pacedWarmMs: 3000, pacedMeasureMs: 10_000, playlistRepeats: 20, segMs: 3000 };
const CONCURRENCIES = [1, 10, 100] as const;
/** SPEC §5.5: viewers of one live channel (the proxy shares one upstream among them). */
const SHARED = { viewers: 200, warmupMs: P.pacedWarmMs, measureMs: P.pacedMeasureMs, joinProbes: QUICK ? 5 : 10 };
const SEGMENT_CLIENTS = 10;
const SEGMENT_URLS = 200;

const results = createResults();
const { add, note, cell } = results;

async function throughput(load: Children, targets: Target[], urlsOf: (t: Target) => string[] | string): Promise<void> {
  for (let rep = 0; rep < P.reps; rep++) {
    for (const readers of CONCURRENCIES) {
      for (const t of rotated(targets, rep + readers)) {
        const metric = `tput${readers}`;
        const urls = urlsOf(t);
        if (typeof urls === 'string') {
          note(metric, t.name, urls);
          note(`cpu${readers}`, t.name, urls);
          continue;
        }
        const before = sampleTree(t.pids()).cpuS;
        const r = (await load.run({ kind: 'throughput', urls, readers, durationMs: P.tputMs })) as ThroughputResult;
        const cpu = sampleTree(t.pids()).cpuS - before;
        const why = r.bytes === 0 ? missingRoute(r.statuses) : undefined;
        if (why !== undefined) {
          note(metric, t.name, why);
          note(`cpu${readers}`, t.name, why);
          continue;
        }
        add(metric, t.name, r.bytes / 1e6 / (r.elapsedMs / 1000));
        if (t.name !== 'direct') add(`cpu${readers}`, t.name, cpu / (r.bytes / 1e9));
        log(`throughput ${t.name} ×${readers}: ${(r.bytes / 1e6 / (r.elapsedMs / 1000)).toFixed(0)} MB/s, cpu ${cpu.toFixed(2)} s, errors ${r.errors}`);
      }
    }
  }
}

async function ttfb(load: Children, targets: Target[], urlOf: (t: Target) => string): Promise<void> {
  for (let rep = 0; rep < P.reps; rep++) {
    for (const t of rotated(targets, rep)) {
      const url = urlOf(t);
      if (t.missing !== undefined || url === '') {
        note('ttfb50', t.name, t.missing ?? 'n/a');
        note('ttfb95', t.name, t.missing ?? 'n/a');
        continue;
      }
      const r = (await load.run({ kind: 'ttfb', url, count: Math.ceil(P.ttfbCount / P.reps) })) as TtfbResult;
      const why = r.ms.length === 0 ? missingRoute(r.statuses) : undefined;
      if (why !== undefined) {
        note('ttfb50', t.name, why);
        note('ttfb95', t.name, why);
        continue;
      }
      // Pool the probes of every run: the percentiles are over all of them.
      for (const ms of r.ms) add('ttfb', t.name, ms);
    }
  }
}

async function disconnects(origin: Origin, proxy: ProxyProcess | undefined, nginx: Nginx | undefined): Promise<void> {
  const liveUrl = (tag: string): string => `http://127.0.0.1:${origin.port}/live/${tag}.ts?rate=${LIVE_RATE_BPS}&ms=20000`;
  for (let i = 0; i < P.discTrials; i++) {
    if (proxy !== undefined) {
      const tag = `px${i}-${Date.now()}`;
      const s = await createStream(proxy.base, liveUrl(tag));
      if ('error' in s) note('disc', 'proxy', `n/a (${s.error})`);
      else {
        const r = await disconnectTrial(proxy.base + s.endpoint, origin, tag);
        if (typeof r === 'string') note('disc', 'proxy', r.includes('404') ? 'n/a (route missing)' : `n/a (${r})`);
        else add('disc', 'proxy', r);
      }
    }
    if (nginx !== undefined) {
      const tag = `ng${i}-${Date.now()}`;
      const r = await disconnectTrial(`http://127.0.0.1:${nginx.port}/local/live/${tag}.ts?rate=${LIVE_RATE_BPS}&ms=20000`, origin, tag);
      if (typeof r === 'string') note('disc', 'nginx', `n/a (${r})`);
      else add('disc', 'nginx', r);
    }
  }
}

/**
 * Runs of the playlist rows under --only=cold (issue 12 item 7 asks for a median of several cold fetches), after
 * COLD_WARMUPS unmeasured ones: there no other section has run the proxy's rewriter, and a just-started process's
 * first fetches measure V8 compiling it, not the cost of a new playlist.
 */
const COLD_REPS = 5;
const COLD_WARMUPS = 4;

async function hls(load: Children, targets: Target[], originBase: string, proxy: ProxyProcess | undefined, reps = P.reps, warmups = 0): Promise<string[] | string> {
  let proxiedSegments: string[] | string = 'n/a (proxy not running)';
  for (let rep = -warmups; rep < reps; rep++) {
    // Warm-up runs record nothing.
    const add = rep < 0 ? (): void => undefined : results.add;
    const note = rep < 0 ? (): void => undefined : results.note;
    for (const t of targets) {
      let url = `${t.base}/hls/vod.m3u8`;
      if (t.name === 'proxy') {
        if (proxy === undefined) {
          note('plFirst', 'proxy', t.missing ?? 'n/a');
          continue;
        }
        // A new stream each run (the origin ignores the query), so that every run has a cold first fetch.
        const s = await createStream(proxy.base, `${originBase}/hls/vod.m3u8?run=${rep}-${Date.now()}`);
        if ('error' in s) {
          note('plFirst', 'proxy', `n/a (${s.error})`);
          continue;
        }
        url = proxy.base + s.endpoint;
      }
      const r = (await load.run({ kind: 'playlist', url, count: 1 + P.playlistRepeats, keepUris: SEGMENT_URLS })) as PlaylistResult;
      const why = r.ms.length === 0 ? missingRoute(r.statuses) : undefined;
      if (why !== undefined) {
        note('plFirst', t.name, why);
        note('plRepeat', t.name, why);
        if (t.name === 'proxy') proxiedSegments = why;
        continue;
      }
      add('plFirst', t.name, r.ms[0] ?? Number.NaN);
      add('plRepeat', t.name, median(r.ms.slice(1)));
      if (r.uriLines !== HLS_SEGMENTS) log(`WARNING: ${t.name} playlist has ${r.uriLines} URI lines, expected ${HLS_SEGMENTS}`);
      log(`playlist ${t.name}: first ${r.ms[0]?.toFixed(1)} ms, repeated median ${median(r.ms.slice(1)).toFixed(1)} ms, ${r.bytes} bytes`);
      if (t.name === 'proxy' && proxy !== undefined && rep === 0) proxiedSegments = r.uris.map((u) => new URL(u, url).href);
    }
  }
  return proxiedSegments;
}

async function segments(load: Children, targets: Target[], proxied: string[] | string): Promise<void> {
  const originPaths = Array.from({ length: SEGMENT_URLS }, (_, i) => `/hls/seg/${i}.ts`);
  for (let rep = 0; rep < P.reps; rep++) {
    for (const t of rotated(targets, rep)) {
      const urls = t.name === 'proxy' ? proxied : originPaths.map((p) => t.base + p);
      if (typeof urls === 'string' || urls.length === 0) {
        note('seg', t.name, typeof urls === 'string' ? urls : 'n/a (no segment URIs)');
        continue;
      }
      const before = sampleTree(t.pids()).cpuS;
      const r = (await load.run({ kind: 'segments', urls, concurrency: SEGMENT_CLIENTS, durationMs: P.segMs, maxRequests: 1_000_000 })) as SegmentsResult;
      const cpu = sampleTree(t.pids()).cpuS - before;
      const why = r.requests === 0 ? missingRoute(r.statuses) : undefined;
      if (why !== undefined) {
        note('seg', t.name, why);
        continue;
      }
      add('seg', t.name, r.requests / (r.elapsedMs / 1000));
      if (t.name !== 'direct') add('segCpu', t.name, (cpu / r.requests) * 1000);
      log(`segments ${t.name}: ${(r.requests / (r.elapsedMs / 1000)).toFixed(0)} req/s, errors ${r.errors}`);
    }
  }
}

/** The stream endpoint for an origin URL on this proxy, cached; a string is the reason it cannot be had. */
function endpointCache(proxy: ProxyProcess | undefined): (url: string) => Promise<string> {
  const cache = new Map<string, string>();
  return async (url) => {
    if (proxy === undefined) return 'n/a (proxy not running)';
    const hit = cache.get(url);
    if (hit !== undefined) return hit;
    const s = await createStream(proxy.base, url);
    const value = 'error' in s ? `n/a (${s.error})` : proxy.base + s.endpoint;
    cache.set(url, value);
    return value;
  };
}

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  let cleaning = false;
  const cleanup = async (): Promise<void> => {
    if (cleaning) return;
    cleaning = true;
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  };
  const onSignal = (): void => {
    log('interrupted: cleaning up');
    void cleanup().then(() => process.exit(130));
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, onSignal);

  const loadBefore = os.loadavg()[0] ?? 0;
  try {
    const children = await startChildren();
    cleanups.push(children.stop);
    const local = await startOrigin();
    cleanups.push(local.close);
    const originBase = `http://127.0.0.1:${children.originPort}`;
    log(`origin on ${children.originPort} (pid ${children.originPid}), in-process origin on ${local.port}`);

    const nginxBin = findNginx();
    let nginx: Nginx | undefined;
    let nginxWhy = 'skipped (no nginx)';
    if (nginxBin !== undefined) {
      try {
        nginx = await startNginx(nginxBin, await freePort(), children.originPort, local.port);
        cleanups.push(nginx.stop);
        log(`nginx on ${nginx.port} (master ${nginx.masterPid})`);
      } catch (err) {
        nginxWhy = `skipped (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
        log(nginxWhy);
      }
    }

    let proxy: ProxyProcess | undefined;
    let proxyWhy: string | undefined;
    try {
      proxy = await startProxy();
      const p = proxy;
      cleanups.push(() => p.stop());
      log(`proxy on ${proxy.base} (pid ${proxy.pid})`);
    } catch (err) {
      proxyWhy = `n/a (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
      log(proxyWhy);
    }

    const none = (): number[] => [];
    const targets: Target[] = [
      { name: 'direct', base: originBase, pids: none },
      { name: 'proxy', base: proxy?.base ?? '', pids: () => (proxy === undefined ? [] : [proxy.pid]), ...(proxyWhy !== undefined ? { missing: proxyWhy } : {}) },
      { name: 'nginx', base: nginx === undefined ? '' : `http://127.0.0.1:${nginx.port}`, pids: () => nginx?.pids() ?? [], ...(nginx === undefined ? { missing: nginxWhy } : {}) },
    ];
    const live = targets.filter((t) => t.missing === undefined);
    for (const t of targets) {
      if (t.missing === undefined) continue;
      for (const m of ['tput1', 'tput10', 'tput100', 'cpu1', 'cpu10', 'cpu100', 'ttfb', 'disc', 'plFirst', 'plRepeat', 'seg', 'segCpu', 'pacedOk', 'pacedRate', 'pacedMin', 'rss', 'rssMarginal', 'pacedCpu', ...SHARED_METRICS]) {
        note(m, t.name, t.missing);
      }
    }

    // Continuous/VOD: the 128 MiB body through /stream/{id}; each reader is its own player (client_id).
    const endpoint = endpointCache(proxy);
    const vodEndpoint = await endpoint(`${originBase}/vod/big.mp4`);
    if (proxy !== undefined && vodEndpoint.startsWith('http')) {
      const s = await statusOf(vodEndpoint);
      log(`probe ${vodEndpoint}: ${s ?? 'no answer'}`);
    }
    const vodUrls = (t: Target): string[] | string => {
      if (t.name !== 'proxy') return Array.from({ length: 1 }, () => `${t.base}/vod/big.mp4`);
      if (!vodEndpoint.startsWith('http')) return vodEndpoint;
      return Array.from({ length: 100 }, (_, k) => `${vodEndpoint}?client_id=bench-r${k}`);
    };
    if (want('tput')) {
      // Warm-up: JIT and connection pools, not measured.
      for (const t of live) {
        const urls = vodUrls(t);
        if (typeof urls !== 'string') await children.run({ kind: 'throughput', urls, readers: 10, durationMs: 1000 });
      }
      log('throughput…');
      await throughput(children, live, vodUrls);
    }

    const smallEndpoint = await endpoint(`${originBase}/small/probe.ts`);
    if (want('ttfb')) log('time to first byte…');
    if (want('ttfb')) await ttfb(children, live, (t) => (t.name === 'proxy' ? (smallEndpoint.startsWith('http') ? smallEndpoint : '') : `${t.base}/small/probe.ts`));
    if (!smallEndpoint.startsWith('http')) note('ttfb', 'proxy', smallEndpoint);

    if (want('disc')) {
      log('disconnect → upstream closed…');
      await disconnects(local, proxy, nginx);
    }

    if (want('hls')) {
      log('HLS playlist…');
      // The same warm-up as --only=cold: the row is a new playlist on a running proxy, not V8 compiling the rewriter.
      const proxied = await hls(children, live, originBase, proxy, P.reps, COLD_WARMUPS);
      log('HLS segments…');
      await segments(children, live, proxied);
    } else if (want('cold')) {
      log('HLS playlist, cold first fetches…');
      await hls(children, live, originBase, proxy, COLD_REPS, COLD_WARMUPS);
    }
    const viewersTable = want('hlsviewers') ? await hlsViewers({ proxy, reps: P.reps, windowMs: QUICK ? 8000 : 16_000 }) : '';

    // RSS per client wants a fresh proxy: the heap grown by the runs above would hide (or fake) the per-client cost.
    if (want('paced') && proxy !== undefined) {
      await proxy.stop();
      proxy = undefined;
      try {
        proxy = await startProxy();
        const p = proxy;
        cleanups.push(() => p.stop());
      } catch (err) {
        note('rss', 'proxy', `n/a (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
      }
    }
    const pacedEndpoint = await endpointCache(proxy)(`${originBase}/live/paced.ts?rate=${LIVE_RATE_BPS}&ms=60000`);
    if (want('paced')) log(`${P.paced} × 4 Mbit/s players…`);
    for (const t of want('paced') ? live : []) {
      const urls =
        t.name === 'proxy'
          ? pacedEndpoint.startsWith('http')
            ? Array.from({ length: P.paced }, (_, k) => `${pacedEndpoint}?client_id=bench-p${k}`)
            : pacedEndpoint
          : Array.from({ length: P.paced }, (_, k) => `${t.base}/live/p${k}.ts?rate=${LIVE_RATE_BPS}&ms=60000`);
      const pids = t.name === 'proxy' ? () => (proxy === undefined ? [] : [proxy.pid]) : t.pids;
      const run = { clients: P.paced, warmupMs: P.pacedWarmMs, measureMs: P.pacedMeasureMs, prefix: '', proxyBase: t.name === 'proxy' ? proxy?.base : undefined };
      await paced(results, children, { ...t, pids }, urls, run);
    }

    // The same live rate from an origin that writes 1316-byte pieces (as IPTV panels relay UDP): per-chunk costs.
    const smallWritesEndpoint = await endpointCache(proxy)(`${originBase}/live/small.ts?rate=${LIVE_RATE_BPS}&ms=60000&write=1316`);
    if (want('small')) log(`${SMALL_WRITE_PLAYERS} × 4 Mbit/s players, 1316-byte origin writes…`);
    for (const t of want('small') ? live : []) {
      const urls =
        t.name === 'proxy'
          ? smallWritesEndpoint.startsWith('http')
            ? Array.from({ length: SMALL_WRITE_PLAYERS }, (_, k) => `${smallWritesEndpoint}?client_id=bench-s${k}`)
            : smallWritesEndpoint
          : Array.from({ length: SMALL_WRITE_PLAYERS }, (_, k) => `${t.base}/live/s${k}.ts?rate=${LIVE_RATE_BPS}&ms=60000&write=1316`);
      const pids = t.name === 'proxy' ? () => (proxy === undefined ? [] : [proxy.pid]) : t.pids;
      const run = { clients: SMALL_WRITE_PLAYERS, warmupMs: P.pacedWarmMs, measureMs: P.pacedMeasureMs, prefix: 'small:' };
      await paced(results, children, { ...t, pids }, urls, run);
    }

    if (want('shared')) log(`1 channel × ${SHARED.viewers} viewers…`);
    for (let rep = 0; want('shared') && rep < P.reps; rep++) for (const t of rotated(live, rep)) await sharedChannel(results, children, t, originBase, proxy?.base, SHARED, rep);
    if (want('hooks')) await benchWebhooks(results, proxy?.base, P.reps);
    const extra = [
      ...(want('state') ? await benchState(QUICK) : []),
      ...(want('transcode') ? [...(await benchTranscode(50)), ''] : []),
      ...(want('relay') ? await benchRelay({ seconds: QUICK ? 4 : 10, rateMBps: 20 }) : []),
    ];
    const nginxBase = nginx === undefined ? undefined : `http://127.0.0.1:${nginx.port}`;
    // Issue 24 items 8 and 7: their own proxies, Node's floor and nginx in one run, each printed as its own table.
    const firstByteTable = want('firstbyte') ? await benchFirstByte({ originPort: children.originPort, nginxBase, rounds: Number(process.env['BENCH_FIRSTBYTE_ROUNDS'] ?? 0) || (QUICK ? 20 : 60) }) : '';
    const memoryTable = want('memory') ? await benchMemory({ load: children, nginx: live.find((t) => t.name === 'nginx'), quick: QUICK, reps: P.reps }) : '';
    printReport(loadBefore, extra, [viewersTable, firstByteTable, memoryTable]);
  } finally {
    await cleanup();
  }
}

function printReport(loadBefore: number, extraLines: string[], tables: string[]): void {
  const p95 = (xs: number[]): number => percentile(xs, 95);
  const max = (xs: number[]): number => Math.max(...xs);
  const row = (metric: string, key: string, digits: number, target: Row['target'], reduce?: (xs: number[]) => number): Row => ({
    metric,
    direct: cell(key, 'direct', reduce),
    proxy: cell(key, 'proxy', reduce),
    nginx: cell(key, 'nginx', reduce),
    target,
    digits,
  });
  const none = { kind: 'none' } as const;
  const geNginx = { kind: 'vs-nginx', op: '>=', factor: 0.9 } as const;
  const leNginx = { kind: 'vs-nginx', op: '<=', factor: 1.3 } as const;
  const rows: Row[] = [
    row('VOD throughput, 1 reader (MB/s)', 'tput1', 0, geNginx),
    row('VOD throughput, 10 readers (MB/s)', 'tput10', 0, geNginx),
    row('VOD throughput, 100 readers (MB/s)', 'tput100', 0, geNginx),
    row('CPU s/GB, 1 reader', 'cpu1', 2, leNginx),
    row('CPU s/GB, 10 readers', 'cpu10', 2, leNginx),
    row('CPU s/GB, 100 readers', 'cpu100', 2, leNginx),
    row(`${P.paced}×4 Mbit/s: players within ±5%`, 'pacedOk', 0, { kind: 'absolute', op: '>=', value: P.paced, unit: 'players' }),
    row(`${P.paced}×4 Mbit/s: median player Mbit/s`, 'pacedRate', 2, none),
    row(`${P.paced}×4 Mbit/s: slowest player Mbit/s`, 'pacedMin', 2, none),
    row(`${P.paced}×4 Mbit/s: RSS per player (KB)`, 'rss', 1, { kind: 'absolute', op: '<=', value: 100, unit: 'KB' }),
    row(`${P.paced}×4 Mbit/s: RSS per added player, 2nd half (KB)`, 'rssMarginal', 1, none),
    row(`${P.paced}×4 Mbit/s: CPU s/GB`, 'pacedCpu', 2, leNginx),
    row(`${SMALL_WRITE_PLAYERS}×4 Mbit/s, 1316-byte origin writes: players within ±5%`, 'small:pacedOk', 0, { kind: 'absolute', op: '>=', value: SMALL_WRITE_PLAYERS, unit: 'players' }),
    row(`${SMALL_WRITE_PLAYERS}×4 Mbit/s, 1316-byte origin writes: CPU s/GB`, 'small:pacedCpu', 2, none),
    row('TTFB small /stream, median (ms)', 'ttfb', 2, none, median),
    row('TTFB small /stream, p95 (ms)', 'ttfb', 2, none, p95),
    row('disconnect → upstream closed, median (ms)', 'disc', 1, none, median),
    row('disconnect → upstream closed, max (ms)', 'disc', 1, { kind: 'absolute', op: '<=', value: 50, unit: 'ms' }, max),
    row(`HLS ${HLS_SEGMENTS / 1000}k-segment playlist, first (ms)`, 'plFirst', 1, { kind: 'absolute', op: '<=', value: 30, unit: 'ms' }),
    row(`HLS ${HLS_SEGMENTS / 1000}k-segment playlist, repeated (ms)`, 'plRepeat', 1, { kind: 'absolute', op: '<=', value: 10, unit: 'ms' }),
    row(`HLS 1 MiB segments, ${SEGMENT_CLIENTS} clients (req/s)`, 'seg', 0, geNginx),
    row('HLS 1 MiB segments, CPU ms/request', 'segCpu', 2, none),
    ...sharedChannelRows(SHARED.viewers, row),
    ...webhookRows(results),
  ];
  const lines = [
    '',
    `m3u-proxy bench${QUICK ? ' (--quick)' : ''}: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load avg ${loadBefore.toFixed(2)} before / ${(os.loadavg()[0] ?? 0).toFixed(2)} after`,
    `figures: median of ${P.reps} run(s) per cell, targets rotated between runs; throughput windows ${P.tputMs / 1000} s over a 128 MiB VOD body;`,
    `  TTFB over ${results.samplesOf('ttfb', 'proxy').length} probes of a 16 KiB file; disconnect over ${results.samplesOf('disc', 'proxy').length} trials (live 4 Mbit/s, abort after 64 KiB, miss = no close in ${CLOSE_WAIT_MS} ms);`,
    `  ${P.paced} players: ${P.pacedWarmMs / 1000} s warm-up then ${P.pacedMeasureMs / 1000} s measured, on a fresh proxy (RSS per player = (median RSS during the window − RSS before connecting) / players answered 200;
    per added player = (median RSS in the window − median RSS while holding the first half) / players added);`,
    `  HLS: ${HLS_SEGMENTS} segments, first fetch on a new stream (after ${COLD_WARMUPS} unmeasured ones), then ${P.playlistRepeats} repeats; segments: ${SEGMENT_CLIENTS} clients over ${SEGMENT_URLS} rewritten segment URLs.`,
    `direct = the origin itself; CPU and RSS of the proxy process (or nginx master + workers) from /proc (all threads, 10 ms ticks).`,
    `${NGINX_SETUP}.`,
    'origin, load client and proxy/nginx are separate processes sharing the same cores.',
    '',
    renderTable(rows),
    '',
    ...(extraLines.length > 0 ? [...extraLines, ''] : []),
    ...tables.filter((t) => t !== '').flatMap((t) => [t, '']),
  ];
  process.stdout.write(lines.join('\n'));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
