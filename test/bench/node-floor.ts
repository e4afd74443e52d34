// What Node's own HTTP stack costs per relayed byte: m3u-proxy's segment and /stream paths against a minimal Node
// reverse proxy (http.request + pipe, keep-alive Agent) on the same origin, same load, same machine. Not run by CI.
// Usage: node --import tsx test/bench/node-floor.ts   (medians of 3 runs of 3 s, 10 keep-alive clients, 1 MiB bodies)
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStream, freePort, startProxy } from './proxy.ts';
import { median } from './stats.ts';

const BODY = Buffer.alloc(1024 * 1024, 0x47);
const RUNS = 3;
const WINDOW_MS = 3_000;
const CLIENTS = 10;

// The floor: what any Node proxy pays at least. Runs as its own process, like m3u-proxy, so /proc gives its CPU alone.
const FLOOR_SOURCE = `
const http = require('node:http');
const [upstream, port] = process.argv.slice(1).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
http.createServer((req, res) => {
  http.request({ host: '127.0.0.1', port: upstream, path: req.url, agent }, (up) => {
    res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'], 'content-length': up.headers['content-length'] });
    up.pipe(res);
  }).end();
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

function cpuSeconds(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

function get(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.once('end', resolve);
        res.once('error', reject);
      })
      .once('error', reject);
  });
}

/** CLIENTS loops over one URL for WINDOW_MS: requests per second and the serving process's CPU ms per request. */
async function load(url: string, pid: number): Promise<{ rps: number; cpuMs: number }> {
  const cpu0 = cpuSeconds(pid);
  const deadline = Date.now() + WINDOW_MS;
  let n = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < deadline) {
        await get(url);
        n++;
      }
    }),
  );
  return { rps: n / (WINDOW_MS / 1000), cpuMs: ((cpuSeconds(pid) - cpu0) * 1000) / Math.max(1, n) };
}

const origin = http.createServer((req, res) => {
  if ((req.url ?? '').startsWith('/pl.m3u8')) {
    res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
    res.end('#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\nseg.ts\n#EXT-X-ENDLIST\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': BODY.length });
  res.end(BODY);
});
origin.keepAliveTimeout = 30_000;
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
const originBase = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;

const floorPort = await freePort();
const floor: ChildProcess = spawn(process.execPath, ['-e', FLOOR_SOURCE, String((origin.address() as AddressInfo).port), String(floorPort)], { stdio: 'ignore' });
const proxy = await startProxy();
try {
  await sleep(300);
  const direct = await createStream(proxy.base, `${originBase}/seg.ts`);
  const hls = await createStream(proxy.base, `${originBase}/pl.m3u8`);
  if ('error' in direct || 'error' in hls) throw new Error('could not create the streams');
  const playlist = await (await fetch(proxy.base + hls.endpoint)).text();
  const segment = playlist.split('\n').find((l) => l.startsWith('/'));
  if (segment === undefined) throw new Error('no segment URI in the proxied playlist');
  const cases: Array<[string, string, number]> = [
    ['node floor (http.request + pipe)', `http://127.0.0.1:${floorPort}/seg.ts`, floor.pid ?? 0],
    ['m3u-proxy HLS segment', proxy.base + segment, proxy.pid],
    ['m3u-proxy /stream/{id}', proxy.base + direct.endpoint, proxy.pid],
  ];
  const results = new Map<string, { rps: number[]; cpu: number[] }>(cases.map(([name]) => [name, { rps: [], cpu: [] }]));
  for (let run = 0; run < RUNS; run++) {
    for (const [name, url, pid] of cases) {
      const r = await load(url, pid);
      results.get(name)?.rps.push(r.rps);
      results.get(name)?.cpu.push(r.cpuMs);
    }
  }
  const floorRps = median(results.get(cases[0]?.[0] ?? '')?.rps ?? []);
  const floorCpu = median(results.get(cases[0]?.[0] ?? '')?.cpu ?? []);
  process.stdout.write(`1 MiB bodies, ${CLIENTS} keep-alive clients, medians of ${RUNS} × ${WINDOW_MS / 1000} s\n`);
  for (const [name, r] of results) {
    const rps = median(r.rps);
    const cpu = median(r.cpu);
    process.stdout.write(
      `${name.padEnd(34)} ${rps.toFixed(0).padStart(6)} req/s (${(rps / floorRps).toFixed(2)}× floor)  ` +
        `${cpu.toFixed(2)} CPU ms/request (${(cpu / floorCpu).toFixed(2)}× floor)\n`,
    );
  }
} finally {
  floor.kill('SIGTERM');
  await proxy.stop();
  agent.destroy();
  origin.closeAllConnections();
  origin.close();
}
