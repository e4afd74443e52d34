// Relay cost (SPEC §16): a viewer fed through another node's relay, beside one served by the channel owner directly.
// Two compiled proxy nodes on one redis-server, one paced live channel per case from an in-process origin whose
// 188-byte packets carry the time they were written, so the viewer measures each packet's delay end to end.
//   direct: the viewer plays on the owner node (CPU: both nodes, only the owner works).
//   relay:  the owner plays the channel for a relay session of node B only; the viewer plays on node B.
// Figures: CPU seconds per GB delivered (both node processes), packet delay p50/p95 (origin write -> viewer read),
// and a new viewer's time to first byte on the running channel.
// Run: node --import tsx test/bench/cluster-relay.ts [--seconds=8] [--rate=8]   (rate: MB/s of the channel), or
// `npm run bench -- --only=relay` (part of the full bench too).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { createStream, freePort, startProxy, type ProxyProcess } from './proxy.ts';
import { median, percentile, sampleTree } from './stats.ts';

const arg = (name: string, def: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
let SECONDS = arg('seconds', 8);
let RATE = arg('rate', 8) * 1e6;
const TICK_MS = 10;
const REDIS = '/usr/bin/redis-server';
const PACKET = 188;
const SECRET = 'bench-cluster-secret-0123456789';

/** Endless null packets, paced at RATE; each chunk's packets carry its write time (float64 at byte 4). */
function startOrigin(): Promise<{ base: string; close(): Promise<void> }> {
  const packets = Math.max(1, Math.round((RATE * TICK_MS) / 1000 / PACKET));
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    const timer = setInterval(() => {
      const chunk = Buffer.alloc(packets * PACKET, 0xff);
      const now = performance.now();
      for (let p = 0; p < packets; p++) {
        const o = p * PACKET;
        chunk[o] = 0x47;
        chunk[o + 1] = 0x1f;
        chunk[o + 2] = 0xff;
        chunk[o + 3] = 0x10;
        chunk.writeDoubleLE(now, o + 4);
      }
      res.write(chunk);
    }, TICK_MS);
    res.once('close', () => clearInterval(timer));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        base: `http://127.0.0.1:${port}`,
        close: () => {
          server.closeAllConnections();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

interface Viewer {
  bytes: number;
  delays: number[];
  firstByteMs: Promise<number>;
  leave(): void;
}

/** Reads as fast as it can; samples every 16th packet's delay once `measuring` says so. */
function view(url: string, measuring: () => boolean): Viewer {
  const t0 = performance.now();
  let first!: (ms: number) => void;
  const v: Viewer = { bytes: 0, delays: [], firstByteMs: new Promise((r) => (first = r)), leave: () => req.destroy() };
  let rest: Buffer = Buffer.alloc(0);
  let phase = -1;
  let seen = 0;
  const req = http.get(url, { agent: false }, (res) => {
    res.on('data', (chunk: Buffer) => {
      if (v.bytes === 0) first(performance.now() - t0);
      const now = performance.now();
      if (measuring()) v.bytes += chunk.length;
      let buf: Buffer = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      if (phase < 0) {
        for (let i = 0; i + PACKET < buf.length; i++) if (buf[i] === 0x47 && buf[i + PACKET] === 0x47) { phase = i; break; }
        if (phase < 0) return void (rest = buf);
        buf = buf.subarray(phase);
      }
      let o = 0;
      for (; o + PACKET <= buf.length; o += PACKET) if (seen++ % 16 === 0 && measuring() && buf[o] === 0x47) v.delays.push(now - buf.readDoubleLE(o + 4));
      rest = Buffer.from(buf.subarray(o));
    });
  });
  req.on('error', () => undefined);
  return v;
}

/** `before` runs before the measured viewer opens `url`, `after` once it has its first byte. */
/** redis-server on a free loopback port, no persistence; the bench does not load node:test helpers. */
async function startRedis(): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
  });
  child.stdout.resume();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { port, stop: () => (child.kill('SIGKILL'), exited) };
}

async function measure(label: string, nodes: ProxyProcess[], url: string, hooks: { before?: () => Promise<void>; after?: () => void } = {}): Promise<string> {
  let on = false;
  await hooks.before?.();
  const v = view(url, () => on);
  await v.firstByteMs;
  hooks.after?.();
  await new Promise((r) => setTimeout(r, 1_500));
  const before = sampleTree(nodes.map((n) => n.pid)).cpuS;
  const t0 = performance.now();
  on = true;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  on = false;
  const cpu = sampleTree(nodes.map((n) => n.pid)).cpuS - before;
  const elapsed = (performance.now() - t0) / 1000;
  // A viewer joining the running channel: time to its first byte.
  const joins: number[] = [];
  for (let i = 0; i < 5; i++) {
    const j = view(url, () => false);
    joins.push(await j.firstByteMs);
    j.leave();
  }
  v.leave();
  const gb = v.bytes / 1e9;
  return (
    `${label.padEnd(7)} ${(v.bytes / 1e6 / elapsed).toFixed(1).padStart(6)} MB/s  CPU ${(cpu / gb).toFixed(2).padStart(6)} s/GB  delay p50 ${median(v.delays).toFixed(2)} ms p95 ${percentile(v.delays, 95).toFixed(2)} ms  join ${median(joins).toFixed(1)} ms`
  );
}

/** The report lines: a header and one line per case (direct, relay). */
export async function benchRelay(opts: { seconds: number; rateMBps: number }): Promise<string[]> {
  if (!existsSync(REDIS)) return [`relay cost: skipped (${REDIS} not installed)`];
  SECONDS = opts.seconds;
  RATE = opts.rateMBps * 1e6;
  const redis = await startRedis();
  const origin = await startOrigin();
  const env = { CLUSTER_REDIS_URL: `redis://127.0.0.1:${redis.port}`, CLUSTER_SECRET: SECRET, CLUSTER_LEASE_TTL: '10' };
  const nodes: ProxyProcess[] = [];
  try {
    nodes.push(await startProxy(env), await startProxy(env));
    const [a, b] = nodes as [ProxyProcess, ProxyProcess];
    const lines = [`relay cost (SPEC §16): one live channel at ${opts.rateMBps} MB/s, ${SECONDS} s per case, CPU of both nodes, two nodes on one redis-server`];
    const direct = await createStream(a.base, `${origin.base}/live/direct.ts`);
    const relayed = await createStream(a.base, `${origin.base}/live/relayed.ts`);
    if ('error' in direct || 'error' in relayed) throw new Error('POST /streams failed');
    lines.push(await measure('direct', nodes, `${a.base}${direct.endpoint}`));
  // Node A must own the channel: a viewer on A opens it, node B relays it for the measured viewer, A's viewer leaves
  // (the relay session keeps the channel on A).
    let holder: Viewer | undefined;
    lines.push(
      await measure('relay', nodes, `${b.base}${relayed.endpoint}`, {
        before: async () => {
          holder = view(`${a.base}${relayed.endpoint}`, () => false);
          await holder.firstByteMs;
        },
        after: () => holder?.leave(),
      }),
    );
    return lines;
  } finally {
    for (const n of nodes) await n.stop();
    await origin.close();
    await redis.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of await benchRelay({ seconds: SECONDS, rateMBps: RATE / 1e6 })) console.log(line);
}
