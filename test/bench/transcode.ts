// Transcode bench (issue 22): N viewers of ONE transcoded channel (the editor's Default Live template, real FFmpeg)
// beside the same N on the plain shared path. Figures: FFmpeg processes (want 1), provider connections (want 1),
// proxy CPU (ms per second of wall time) and RSS per viewer. Part of `npm run bench` (--only=transcode), or alone below.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EDITOR_DEFAULT_PROFILES } from '../../src/services/transcode/profiles.ts';
import { startProxy } from './proxy.ts';
import { childPidsOf, cpuSecondsOf, median, rssBytesOf } from './stats.ts';

const WARMUP_MS = 5_000;
const MEASURE_MS = 15_000;

function post(base: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = http.request(base + path, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let out = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (out += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(out) as Record<string, unknown>) : reject(new Error(`${path} ${res.statusCode}: ${out}`))));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** A live origin looping `channel` at about its own bit rate; counts the responses open now. */
async function startOrigin(channel: Buffer): Promise<{ base: string; open: () => number; close(): void }> {
  let open = 0;
  const server = http.createServer((_req, res) => {
    open++;
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    let off = 0;
    // 20 s of media: 1/500 of it every 40 ms is real time.
    const piece = Math.ceil(channel.length / 500);
    const timer = setInterval(() => {
      res.write(channel.subarray(off, off + piece));
      off = off + piece >= channel.length ? 0 : off + piece;
    }, 40);
    res.once('close', () => {
      clearInterval(timer);
      open--;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, open: () => open, close: () => server.close() };
}

async function measure(url: string, proxyPid: number, origin: { open(): number }, viewers: number): Promise<Record<string, number>> {
  const baseRss = rssBytesOf(proxyPid);
  const reqs: http.ClientRequest[] = [];
  let bytes = 0;
  for (let k = 0; k < viewers; k++) {
    reqs.push(http.get(`${url}?client_id=bench-${k}`, { agent: false }, (res) => res.on('data', (c: Buffer) => (bytes += c.length))));
    reqs.at(-1)!.on('error', () => undefined); // destroyed at the end on purpose
  }
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const cpu0 = cpuSecondsOf(proxyPid);
  const bytes0 = bytes;
  const rss: number[] = [];
  const ffmpegs: number[] = [];
  const conns: number[] = [];
  for (let i = 0; i < MEASURE_MS / 500; i++) {
    await new Promise((r) => setTimeout(r, 500));
    rss.push(rssBytesOf(proxyPid));
    ffmpegs.push(childPidsOf(proxyPid).length);
    conns.push(origin.open());
  }
  const cpu = cpuSecondsOf(proxyPid) - cpu0;
  const mbps = ((bytes - bytes0) * 8) / (MEASURE_MS / 1000) / 1e6 / viewers;
  for (const r of reqs) r.destroy();
  return {
    processes: Math.max(...ffmpegs),
    providerConnections: Math.max(...conns),
    cpuMsPerS: (cpu * 1000) / (MEASURE_MS / 1000),
    rssKbPerViewer: (median(rss) - baseRss) / viewers / 1024,
    mbpsPerViewer: mbps,
  };
}

/** The scenario's report lines (a title and a small table); `npm run bench` prints them after its own table. */
export async function benchTranscode(viewers: number): Promise<string[]> {
  const lines: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'm3u-bench-transcode-'));
  try {
    const file = join(dir, 'channel.ts');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=20:size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=duration=20', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-b:v', '2000k', '-c:a', 'aac', '-f', 'mpegts', file]);
    const origin = await startOrigin(readFileSync(file));
    const proxy = await startProxy({ FFMPEG_PATH: 'ffmpeg', TRANSCODE_START_TIMEOUT: '30', SHARED_STREAM_GRACE: '0.1', HLS_TEMP_DIR: dir });
    try {
      const t = await post(proxy.base, '/transcode', { url: `${origin.base}/live/t.ts`, profile: EDITOR_DEFAULT_PROFILES.live });
      const transcoded = await measure(`${proxy.base}${String(t['stream_endpoint'])}`, proxy.pid, origin, viewers);
      await new Promise((r) => setTimeout(r, 1_000));
      const s = await post(proxy.base, '/streams', { url: `${origin.base}/live/plain.ts` });
      const plain = await measure(`${proxy.base}${String(s['stream_endpoint'])}`, proxy.pid, origin, viewers);
      const rows = [['path', 'FFmpeg processes', 'provider connections', 'proxy CPU ms/s', 'proxy RSS KB/viewer', 'Mbit/s per viewer']];
      for (const [name, r] of [['transcode (Default Live)', transcoded], ['plain shared', plain]] as const) {
        rows.push([name, String(r['processes']), String(r['providerConnections']), r['cpuMsPerS']!.toFixed(1), r['rssKbPerViewer']!.toFixed(1), r['mbpsPerViewer']!.toFixed(2)]);
      }
      lines.push(`transcode: ${viewers} viewers of one channel (the editor's Default Live template, real FFmpeg, 640x360 2 Mbit/s source), ${MEASURE_MS / 1000} s measured after ${WARMUP_MS / 1000} s warm-up`);
      for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
    } finally {
      await proxy.stop();
      origin.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

// Run alone: node --import tsx test/bench/transcode.ts [viewers]
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${(await benchTranscode(Number(process.argv[2] ?? 50))).join('\n')}\n`);
}
