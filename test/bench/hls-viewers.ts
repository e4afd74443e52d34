// The HLS viewers bench (issue 10 items 7 and 9): 100 players of one live HLS channel, each reloading the media
// playlist every target duration and fetching every new segment, against the origin itself, the proxy, nginx as a
// plain proxy, and nginx as a caching edge with proxy_cache_lock. Figures: upstream fetches per segment and per
// playlist reload period, and the CPU each target spends per player request. Bounded: VIEWERS players for WINDOW_MS.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { findNginx, startNginx, type Nginx } from './nginx.ts';
import { createStream, freePort, type ProxyProcess } from './proxy.ts';
import { log } from './results.ts';
import { median, sampleTree } from './stats.ts';

const VIEWERS = 100;
const TARGET_MS = 2000;
/** Segments in the live window (RFC 8216 §6.2.2 asks at least three target durations of them). */
const WINDOW = 6;
/** 2 s of a 2 Mbit/s channel. */
const SEGMENT_BYTES = 500_000;
const REQUEST_TIMEOUT_MS = 10_000;

type Column = 'direct' | 'proxy' | 'nginx' | 'nginx cache_lock';
const COLUMNS: readonly Column[] = ['direct', 'proxy', 'nginx', 'nginx cache_lock'];

interface Channel {
  segmentHits: number;
  playlistHits: number;
  segments: Set<number>;
}

/** A live channel per tag: the media sequence advances one segment per target duration from the first request. */
async function startLiveOrigin(): Promise<{ port: number; channel(tag: string): Channel; close(): Promise<void> }> {
  const segment = Buffer.alloc(SEGMENT_BYTES, 0x47);
  const channels = new Map<string, Channel & { startMs: number }>();
  const server = http.createServer((req, res) => {
    const m = /^\/hlslive\/([\w-]+)\/(live\.m3u8|seg(\d+)\.ts)$/.exec(req.url ?? '');
    if (m === null) {
      res.writeHead(404).end();
      return;
    }
    const tag = m[1] ?? '';
    let ch = channels.get(tag);
    if (!ch) channels.set(tag, (ch = { startMs: performance.now(), segmentHits: 0, playlistHits: 0, segments: new Set() }));
    const last = WINDOW - 1 + Math.floor((performance.now() - ch.startMs) / TARGET_MS);
    if (m[3] === undefined) {
      ch.playlistHits++;
      const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${TARGET_MS / 1000}`, `#EXT-X-MEDIA-SEQUENCE:${last - WINDOW + 1}`];
      for (let n = last - WINDOW + 1; n <= last; n++) lines.push(`#EXTINF:${TARGET_MS / 1000}.000,`, `seg${n}.ts`);
      const body = lines.join('\n') + '\n';
      // An edge may reuse a live playlist for half a target duration, and a segment for as long as it likes.
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-length': Buffer.byteLength(body), 'cache-control': 'max-age=1' });
      res.end(body);
      return;
    }
    ch.segmentHits++;
    ch.segments.add(Number(m[3]));
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': SEGMENT_BYTES, 'cache-control': 'max-age=60' });
    res.end(segment);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    channel: (tag) => channels.get(tag) ?? { segmentHits: 0, playlistHits: 0, segments: new Set() },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Tally {
  requests: number;
  errors: number;
}

function fetchText(url: string, agent: http.Agent, keepBody: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => keepBody && chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text: keepBody ? Buffer.concat(chunks).toString('utf8') : '' }));
      res.once('error', () => resolve({ status: 0, text: '' }));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve({ status: 0, text: '' }));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One player: reload every target duration, fetch each segment it has not had, starting three from the live edge. */
async function viewer(playlistUrl: string, startDelayMs: number, endAtMs: number, tally: Tally): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await sleep(startDelayMs);
    let last = -1;
    while (performance.now() < endAtMs) {
      const began = performance.now();
      const pl = await fetchText(playlistUrl, agent, true);
      tally.requests++;
      if (pl.status !== 200) tally.errors++;
      const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(pl.text)?.[1] ?? 0);
      const uris = pl.text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      if (last < 0) last = sequence + uris.length - 4; // RFC 8216 §6.3.3: not within three target durations of the end
      for (const [i, uri] of uris.entries()) {
        if (sequence + i <= last || performance.now() >= endAtMs) continue;
        const seg = await fetchText(new URL(uri, playlistUrl).href, agent, false);
        tally.requests++;
        if (seg.status !== 200) tally.errors++;
        last = sequence + i;
      }
      await sleep(Math.max(0, TARGET_MS - (performance.now() - began)));
    }
  } finally {
    agent.destroy();
  }
}

interface Figures {
  perSegment: number;
  playlistsPerPeriod: number;
  cpuMsPerRequest: number | undefined;
}

async function runOnce(urlOf: (viewer: number) => string, channel: () => Channel, pids: () => number[], windowMs: number): Promise<Figures & Tally> {
  const tally: Tally = { requests: 0, errors: 0 };
  const before = sampleTree(pids()).cpuS;
  const endAt = performance.now() + windowMs;
  // Players tune in spread over one target duration, as real ones do, not in lockstep.
  await Promise.all(Array.from({ length: VIEWERS }, (_, k) => viewer(urlOf(k), (k * TARGET_MS) / VIEWERS, endAt, tally)));
  const cpuS = sampleTree(pids()).cpuS - before;
  const ch = channel();
  return {
    ...tally,
    perSegment: ch.segmentHits / Math.max(1, ch.segments.size),
    playlistsPerPeriod: ch.playlistHits / (windowMs / TARGET_MS),
    cpuMsPerRequest: pids().length === 0 ? undefined : (cpuS / Math.max(1, tally.requests)) * 1000,
  };
}

/** Runs the section and returns its table (markdown), or a line saying why it could not run. */
export async function hlsViewers(opts: { proxy: ProxyProcess | undefined; reps: number; windowMs: number }): Promise<string> {
  const origin = await startLiveOrigin();
  let nginx: Nginx | undefined;
  const samples = new Map<string, number[]>();
  const notes = new Map<string, string>();
  const add = (metric: string, col: Column, v: number | undefined): void => {
    if (v === undefined) return;
    const key = `${metric}|${col}`;
    samples.set(key, [...(samples.get(key) ?? []), v]);
  };
  try {
    const bin = findNginx();
    if (bin === undefined) notes.set('nginx', 'skipped (no nginx)');
    else nginx = await startNginx(bin, await freePort(), origin.port, origin.port);
    for (let rep = 0; rep < opts.reps; rep++) {
      for (const col of COLUMNS) {
        const tag = `${col.replace(/\W/g, '')}-${rep}`;
        const path = `/hlslive/${tag}/live.m3u8`;
        let url: string;
        let pids = (): number[] => [];
        if (col === 'direct') url = `http://127.0.0.1:${origin.port}${path}`;
        else if (col === 'proxy') {
          if (opts.proxy === undefined) continue;
          const proxy = opts.proxy;
          const s = await createStream(proxy.base, `http://127.0.0.1:${origin.port}${path}`);
          if ('error' in s) {
            notes.set(col, `n/a (${s.error})`);
            continue;
          }
          url = proxy.base + s.endpoint;
          pids = () => [proxy.pid];
        } else {
          if (nginx === undefined) continue;
          const n = nginx;
          url = `http://127.0.0.1:${n.port}/${col === 'nginx' ? 'local' : 'cached'}${path}`;
          pids = () => n.pids();
        }
        // The proxy tells players apart by client_id; for nginx every player asks the same URL (its cache key).
        const urlOf = (k: number): string => (col === 'proxy' ? `${url}?client_id=bench-h${k}` : url);
        const r = await runOnce(urlOf, () => origin.channel(tag), pids, opts.windowMs);
        log(`HLS ${VIEWERS} viewers ${col}: ${r.perSegment.toFixed(2)} upstream fetches/segment, ${r.playlistsPerPeriod.toFixed(1)} playlist fetches/period, ${r.requests} requests, ${r.errors} errors`);
        add('seg', col, r.perSegment);
        add('pl', col, r.playlistsPerPeriod);
        add('cpu', col, r.cpuMsPerRequest);
        add('err', col, r.errors);
      }
    }
  } finally {
    await nginx?.stop();
    await origin.close();
  }
  const cell = (metric: string, col: Column, digits: number): string => {
    const xs = samples.get(`${metric}|${col}`);
    if (xs !== undefined && xs.length > 0) return median(xs).toFixed(digits);
    return notes.get(col) ?? (col.startsWith('nginx') ? (notes.get('nginx') ?? '-') : '-');
  };
  const rows = [
    ['upstream fetches per segment', 'seg', 2],
    [`upstream playlist fetches per ${TARGET_MS / 1000} s`, 'pl', 1],
    ['CPU ms per player request', 'cpu', 3],
    ['player requests that failed', 'err', 0],
  ] as const;
  const head = `| ${VIEWERS} viewers of one live HLS channel | ${COLUMNS.join(' | ')} |`;
  const lines = [head, `|${'---|'.repeat(COLUMNS.length + 1)}`];
  for (const [label, metric, digits] of rows) lines.push(`| ${label} | ${COLUMNS.map((c) => cell(metric, c, digits)).join(' | ')} |`);
  return [
    `HLS viewers: ${VIEWERS} players, ${TARGET_MS / 1000} s segments of ${SEGMENT_BYTES / 1000} kB in a ${WINDOW}-segment live window, each reloading every target duration; ${opts.windowMs / 1000} s per run, median of ${opts.reps}.`,
    "  'nginx cache_lock' = nginx with proxy_cache, proxy_cache_lock on and the origin's Cache-Control (playlist max-age=1, segments 60); CPU of the proxy process or nginx master + workers.",
    '',
    ...lines,
    '',
  ].join('\n');
}
