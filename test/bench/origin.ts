// The bench origin: serves VOD bodies, small files, paced live streams and a 20,000-segment HLS VOD from pre-filled Buffers.
// Runs as its own child process (`--child`, port reported over IPC) so that its CPU is not the proxy's, or in-process
// for the disconnect test, where the origin's socket 'close' and the client's abort share one clock.
import { randomFillSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export const VOD_BYTES = 128 * 1024 * 1024;
export const SMALL_BYTES = 16 * 1024;
export const SEGMENT_BYTES = 1024 * 1024;
export const HLS_SEGMENTS = 20_000;
/** Live streams tick this often; each tick sends what the elapsed time owes, so the average rate is exact. */
const PACE_TICK_MS = 50;
/** What a paced response may hold unsent in the origin before it waits for the reader. */
const MAX_QUEUED_BYTES = 256 * 1024;
const LIVE_BLOCK_BYTES = 4 * 1024 * 1024;

export interface Origin {
  port: number;
  /** performance.now() at which the socket that served `/live/<tag>.ts` closed, once it did. */
  closedAt(tag: string): number | undefined;
  close(): Promise<void>;
}

function filled(bytes: number): Buffer {
  const block = randomFillSync(Buffer.allocUnsafe(1024 * 1024));
  const out = Buffer.allocUnsafe(bytes);
  for (let off = 0; off < bytes; off += block.length) block.copy(out, off, 0, Math.min(block.length, bytes - off));
  return out;
}

/**
 * A live MPEG-TS body: 188-byte packets of random payload on one video PID, with a PAT and a keyframe PES start
 * (random_access_indicator) every TS_ENTRY_BYTES, so that the proxy's join buffer (SPEC §5.5) finds where a decoder
 * can start, as it does in a real channel. Random bytes alone have no such place, and a joiner waited for new bytes.
 */
const TS_PACKET = 188;
const TS_ENTRY_BYTES = 250_000 - (250_000 % TS_PACKET);
function liveTs(bytes: number): Buffer {
  const out = filled(bytes - (bytes % TS_PACKET));
  for (let p = 0; p + TS_PACKET <= out.length; p += TS_PACKET) {
    out[p] = 0x47;
    const entry = p % TS_ENTRY_BYTES === 0;
    const keyframe = p % TS_ENTRY_BYTES === TS_PACKET;
    // PID 0 (PAT) at an entry, else the video PID 0x100; payload_unit_start only on the PAT and the keyframe packet.
    out[p + 1] = entry ? 0x40 : keyframe ? 0x41 : 0x01;
    out[p + 2] = 0x00;
    if (keyframe) {
      // Adaptation field (1 byte: random_access_indicator) then a PES header of stream_id 0xE0.
      out[p + 3] = 0x30;
      out.set([1, 0x40, 0, 0, 1, 0xe0, 0, 0, 0x80, 0, 0], p + 4);
    } else {
      out[p + 3] = 0x10 | (out[p + 3]! & 0x0f);
    }
  }
  return out;
}

/** A small live HLS media playlist (no ENDLIST): the burst of client records fetches it (memory bench). */
const LIVE_PLAYLIST = Buffer.from(['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:6', '#EXT-X-MEDIA-SEQUENCE:100', ...Array.from({ length: 6 }, (_, i) => [`#EXTINF:6.000,`, `seg/${100 + i}.ts`]).flat(), ''].join('\n'));

function buildPlaylist(): Buffer {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:6', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD'];
  for (let i = 0; i < HLS_SEGMENTS; i++) lines.push('#EXTINF:6.000,', `seg/${i}.ts`);
  lines.push('#EXT-X-ENDLIST', '');
  return Buffer.from(lines.join('\n'));
}

/** `bytes=a-b` / `bytes=a-` against a body of `total` bytes; undefined when absent or unsupported (answer 200). */
function parseRange(header: string | undefined, total: number): { start: number; end: number } | undefined {
  const m = header === undefined ? null : /^bytes=(\d+)-(\d*)$/.exec(header);
  if (m === null) return undefined;
  const start = Number(m[1]);
  const end = m[2] === '' || m[2] === undefined ? total - 1 : Math.min(total - 1, Number(m[2]));
  return start <= end ? { start, end } : undefined;
}

interface Paced {
  res: http.ServerResponse;
  startMs: number;
  endMs: number;
  bytesPerMs: number;
  sent: number;
  /** Largest single write: 7 × 188 = 1316 mimics an IPTV panel relaying UDP packets (each write one HTTP chunk). */
  writeBytes: number;
  /** The channel's tag (`/live/<tag>.ts`): GET /stats/live counts open responses by tag (provider connections). */
  tag: string;
}

export async function startOrigin(): Promise<Origin> {
  const vod = filled(VOD_BYTES);
  const small = vod.subarray(0, SMALL_BYTES);
  const segment = vod.subarray(0, SEGMENT_BYTES);
  const live = liveTs(LIVE_BLOCK_BYTES);
  const playlist = buildPlaylist();
  const closed = new Map<string, number>();
  const paced = new Set<Paced>();

  const sendBody = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, type: string): void => {
    const range = parseRange(req.headers.range, body.length);
    const headers: http.OutgoingHttpHeaders = { 'content-type': type, 'accept-ranges': 'bytes' };
    if (range === undefined) {
      res.writeHead(200, { ...headers, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    headers['content-range'] = `bytes ${range.start}-${range.end}/${body.length}`;
    res.writeHead(206, { ...headers, 'content-length': range.end - range.start + 1 });
    res.end(req.method === 'HEAD' ? undefined : body.subarray(range.start, range.end + 1));
  };

  const sendDue = (p: Paced, now: number): void => {
    const due = Math.floor((Math.min(now, p.endMs) - p.startMs) * p.bytesPerMs);
    // A full socket buffer means the reader is behind: keep the debt, send it when it drains (no unbounded queue).
    // The bound is in bytes, not writableNeedDrain: a tick of small writes passes the 16 KiB mark by design.
    while (p.sent < due && p.res.writableLength < MAX_QUEUED_BYTES) {
      const off = p.sent % live.length;
      const n = Math.min(due - p.sent, live.length - off, p.writeBytes);
      p.res.write(live.subarray(off, off + n));
      p.sent += n;
    }
    if (now >= p.endMs && p.sent >= due) {
      p.res.end();
      paced.delete(p);
    }
  };
  const tick = (): void => {
    const now = performance.now();
    for (const p of paced) {
      if (p.res.destroyed) {
        paced.delete(p);
        continue;
      }
      sendDue(p, now);
    }
  };
  const timer = setInterval(tick, PACE_TICK_MS);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin');
    const path = url.pathname;
    if (path.startsWith('/vod/')) return sendBody(req, res, vod, 'video/mp4');
    if (path.startsWith('/small/')) return sendBody(req, res, small, 'video/mp2t');
    if (path === '/hls/vod.m3u8') return sendBody(req, res, playlist, 'application/vnd.apple.mpegurl');
    if (path === '/hls/live.m3u8') return sendBody(req, res, LIVE_PLAYLIST, 'application/vnd.apple.mpegurl');
    if (path.startsWith('/hls/seg/')) return sendBody(req, res, segment, 'video/mp2t');
    if (path === '/stats/live') {
      const open: Record<string, number> = {};
      for (const p of paced) if (!p.res.destroyed) open[p.tag] = (open[p.tag] ?? 0) + 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(open));
      return undefined;
    }
    if (path.startsWith('/unthrottled/')) {
      // A live channel with no pacing: chunked, endless, as fast as the reader drains (64 KiB writes).
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      let off = 0;
      const pump = (): void => {
        while (!res.destroyed) {
          const n = Math.min(64 * 1024, live.length - off);
          const more = res.write(live.subarray(off, off + n));
          off = (off + n) % live.length;
          if (!more) return void res.once('drain', pump);
        }
      };
      pump();
      return undefined;
    }
    const liveMatch = /^\/live\/([\w.-]+)\.ts$/.exec(path);
    if (liveMatch !== null) {
      // A live MPEG-TS channel: no Content-Length (chunked), `rate` bits/s for `ms` milliseconds, `write` bytes a write at most.
      const tag = liveMatch[1] ?? '';
      const rate = Number(url.searchParams.get('rate') ?? 4_000_000);
      const ms = Number(url.searchParams.get('ms') ?? 30_000);
      req.socket.once('close', () => closed.set(tag, performance.now()));
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      const now = performance.now();
      const writeBytes = Number(url.searchParams.get('write') ?? live.length);
      // One tick's bytes are owed at once and sent now, as a real channel answers with its first packets at once:
      // waiting for the next tick would add up to PACE_TICK_MS to every time to first byte.
      const p: Paced = { res, startMs: now - PACE_TICK_MS, endMs: now + ms, bytesPerMs: rate / 8 / 1000, sent: 0, writeBytes, tag };
      paced.add(p);
      sendDue(p, now);
      return undefined;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
    return undefined;
  });
  server.keepAliveTimeout = 30_000;
  server.maxHeadersCount = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    closedAt: (tag) => closed.get(tag),
    close: async () => {
      clearInterval(timer);
      for (const p of paced) p.res.destroy();
      paced.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Child-process mode: start, report the port, exit when the parent says so or goes away. */
async function runChild(): Promise<void> {
  const origin = await startOrigin();
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('origin.ts --child needs an IPC channel (fork it)');
  send({ type: 'ready', port: origin.port });
  const stop = (): void => {
    void origin.close().then(() => process.exit(0));
  };
  process.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'stop') stop();
  });
  process.on('disconnect', stop);
}

if (process.argv.includes('--child')) void runChild();
