// The live byte path against the floor (SPEC §5.1, issue 10 item 8): N players of N different unthrottled live
// channels through m3u-proxy's /stream/{id} and through a minimal Node proxy (http.request + pipe, keep-alive Agent),
// same origin and load client, each server in its own process. Not run by CI.
// Usage: node --import tsx test/bench/live-floor.ts [--players=100] [--runs=3] [--ms=3000] [--one=0 skips the 1-player row]
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ThroughputResult } from './load.ts';
import { createStream, freePort, startChildren, startProxy, type Children } from './proxy.ts';
import { cpuByThreadOf, cpuSecondsOf, median } from './stats.ts';

const arg = (name: string, def: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);

/** The floor for a live body: no Content-Length, so the answer is chunked on both sides. */
export const LIVE_FLOOR_SOURCE = `
const http = require('node:http');
const [upstream, port] = process.argv.slice(1, 3).map(Number);
const upstreamHost = process.argv[3] || '127.0.0.1';
const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });
http.createServer((req, res) => {
  const up = http.request({ host: upstreamHost, port: upstream, path: req.url, agent }, (r) => {
    res.writeHead(r.statusCode, { 'content-type': r.headers['content-type'] });
    r.on('error', () => res.destroy());
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  res.on('close', () => up.destroy());
  up.end();
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

export interface LiveFloorFigures {
  players: number;
  floorMBs: number;
  proxyMBs: number;
  floorCpuSPerGB: number;
  proxyCpuSPerGB: number;
  /** Per run (floor and proxy measured back to back): proxy/floor throughput and CPU/GB, lowest and highest. */
  mbsRatioRange: [number, number];
  cpuRatioRange: [number, number];
}

const range = (xs: readonly number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

/** Milliseconds since the process started (the clock of its --trace-gc lines), to the nearest 10 ms. */
function msSinceStart(pid: number): number {
  const start = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19]) / 100;
  return Math.round((Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) - start) * 1000);
}

function ioOf(pid: number): Record<string, number> {
  return Object.fromEntries(readFileSync(`/proc/${pid}/io`, 'utf8').trim().split('\n').map((l) => [l.split(':')[0] ?? '', Number(l.split(':')[1])]));
}

/** Read and write syscalls per MB relayed, and their average size (KiB). */
function ioPerMB(a: Record<string, number>, b: Record<string, number>, bytes: number): string {
  const d = (k: string): number => (b[k] ?? 0) - (a[k] ?? 0);
  const mb = bytes / 1e6;
  return `reads ${(d('syscr') / mb).toFixed(1)}/MB (${(d('rchar') / d('syscr') / 1024).toFixed(1)} KiB), writes ${(d('syscw') / mb).toFixed(1)}/MB (${(d('wchar') / d('syscw') / 1024).toFixed(1)} KiB)`;
}

/** BENCH_THREADS=1: per run, each server's CPU s/GB by thread (event loop, V8 workers incl. GC helpers, libuv). */
const SHOW_THREADS = process.env['BENCH_THREADS'] === '1';

async function measure(children: Children, urls: string[], pid: number, ms: number, label = ''): Promise<{ mbs: number; cpuSPerGB: number }> {
  const cpu0 = cpuSecondsOf(pid);
  const threads0 = SHOW_THREADS ? cpuByThreadOf(pid) : {};
  const t0 = SHOW_THREADS ? msSinceStart(pid) : 0;
  const io0 = SHOW_THREADS ? ioOf(pid) : {};
  const origin0 = cpuSecondsOf(children.originPid);
  const r = (await children.run({ kind: 'throughput', urls, readers: urls.length, durationMs: ms })) as ThroughputResult;
  const cpu = cpuSecondsOf(pid) - cpu0;
  if (SHOW_THREADS && label !== '') {
    const gb = r.bytes / 1e9;
    const parts = Object.entries(cpuByThreadOf(pid)).map(([k, v]) => `${k} ${((v - (threads0[k] ?? 0)) / gb).toFixed(2)}`);
    process.stdout.write(`${label.padEnd(6)} ${(r.bytes / 1e6 / (r.elapsedMs / 1000)).toFixed(0)} MB/s  ${(cpu / gb).toFixed(2)} CPU s/GB [${t0}–${msSinceStart(pid)} ms]: ${parts.join(', ')}; ${ioPerMB(io0, ioOf(pid), r.bytes)}; origin ${((cpuSecondsOf(children.originPid) - origin0) / gb).toFixed(2)}\n`);
  }
  return { mbs: r.bytes / 1e6 / (r.elapsedMs / 1000), cpuSPerGB: r.bytes > 0 ? cpu / (r.bytes / 1e9) : Infinity };
}

/** Medians of `runs` alternating runs of each server, for each player count. */
export async function liveFloor(children: Children, playerCounts: readonly number[], runs: number, ms: number): Promise<LiveFloorFigures[]> {
  const floorPort = await freePort();
  // BENCH_FLOOR_NODE_ARGS: node flags for the floor alone (e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'), like
  // BENCH_PROXY_NODE_ARGS; BENCH_FLOOR_STDOUT=<file> keeps its stdout (--trace-gc).
  const floorArgs = (process.env['BENCH_FLOOR_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
  const floorOut = process.env['BENCH_FLOOR_STDOUT'];
  const floorStdout = floorOut ? openSync(floorOut, 'w') : 'ignore';
  const floor: ChildProcess = spawn(process.execPath, [...floorArgs, '-e', LIVE_FLOOR_SOURCE, String(children.originPort), String(floorPort)], {
    stdio: ['ignore', floorStdout, 'ignore'],
  });
  if (typeof floorStdout === 'number') closeSync(floorStdout);
  const proxy = await startProxy();
  try {
    await sleep(300);
    const max = Math.max(...playerCounts);
    const endpoints: string[] = [];
    for (let k = 0; k < max; k++) {
      const s = await createStream(proxy.base, `http://127.0.0.1:${children.originPort}/unthrottled/c${k}.ts`);
      if ('error' in s) throw new Error(s.error);
      endpoints.push(proxy.base + s.endpoint);
    }
    const out: LiveFloorFigures[] = [];
    for (const n of playerCounts) {
      const floorUrls = Array.from({ length: n }, (_, k) => `http://127.0.0.1:${floorPort}/unthrottled/c${k}.ts`);
      const proxyUrls = endpoints.slice(0, n);
      // Warm-up: JIT and pools, not measured.
      await measure(children, floorUrls, floor.pid ?? 0, 500);
      await measure(children, proxyUrls, proxy.pid, 500);
      const f: { mbs: number; cpuSPerGB: number }[] = [];
      const p: { mbs: number; cpuSPerGB: number }[] = [];
      for (let run = 0; run < runs; run++) {
        // Alternate the order, so neither server always runs on a machine warmed (or tired) by the other.
        if (run % 2 === 0) {
          f.push(await measure(children, floorUrls, floor.pid ?? 0, ms, 'floor'));
          p.push(await measure(children, proxyUrls, proxy.pid, ms, 'proxy'));
        } else {
          p.push(await measure(children, proxyUrls, proxy.pid, ms, 'proxy'));
          f.push(await measure(children, floorUrls, floor.pid ?? 0, ms, 'floor'));
        }
      }
      out.push({
        players: n,
        floorMBs: median(f.map((x) => x.mbs)),
        proxyMBs: median(p.map((x) => x.mbs)),
        floorCpuSPerGB: median(f.map((x) => x.cpuSPerGB)),
        proxyCpuSPerGB: median(p.map((x) => x.cpuSPerGB)),
        mbsRatioRange: range(p.map((x, k) => x.mbs / (f[k]?.mbs ?? Number.NaN))),
        cpuRatioRange: range(p.map((x, k) => x.cpuSPerGB / (f[k]?.cpuSPerGB ?? Number.NaN))),
      });
    }
    return out;
  } finally {
    floor.kill('SIGTERM');
    await proxy.stop();
  }
}

export function formatLiveFloor(rows: readonly LiveFloorFigures[]): string {
  const lines = ['players  floor MB/s  proxy MB/s  ratio   floor CPU s/GB  proxy CPU s/GB  ratio   per-run ratios (MB/s; CPU/GB)'];
  for (const r of rows) {
    lines.push(
      `${String(r.players).padStart(7)}  ${r.floorMBs.toFixed(0).padStart(10)}  ${r.proxyMBs.toFixed(0).padStart(10)}  ${(r.proxyMBs / r.floorMBs).toFixed(2).padStart(5)}×  ` +
        `${r.floorCpuSPerGB.toFixed(2).padStart(14)}  ${r.proxyCpuSPerGB.toFixed(2).padStart(14)}  ${(r.proxyCpuSPerGB / r.floorCpuSPerGB).toFixed(2).padStart(5)}×  ` +
        `${r.mbsRatioRange.map((x) => x.toFixed(2)).join('–')}; ${r.cpuRatioRange.map((x) => x.toFixed(2)).join('–')}`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const children = await startChildren();
  try {
    const rows = await liveFloor(children, arg('one', 1) === 0 ? [arg('players', 100)] : [1, arg('players', 100)], arg('runs', 3), arg('ms', 3000));
    process.stdout.write(`unthrottled live channels, one player each, medians of ${arg('runs', 3)} × ${arg('ms', 3000) / 1000} s\n${formatLiveFloor(rows)}\n`);
  } finally {
    await children.stop();
  }
}
