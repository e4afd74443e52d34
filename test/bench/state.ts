// `npm run bench -- --only=state`: what SPEC §12's durable state costs a create. The same proxy build with the state
// file on (each 200 waits for temp file + fsync + rename + directory fsync, shared by concurrent creates) and off.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startProxy, type ProxyProcess } from './proxy.ts';
import { log } from './results.ts';
import { median, percentile } from './stats.ts';

const BURST = 100;

function post(agent: Agent, base: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ url });
    const req = request(`${base}/streams`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.once('end', () => (res.statusCode === 200 ? resolve(res.statusCode) : reject(new Error(`POST /streams ${res.statusCode}`))));
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function stateWrites(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^m3u_proxy_state_writes_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

interface Figures {
  seqMedianMs: number;
  seqP95Ms: number;
  burstMs: number;
  burstWrites: number;
  bigMedianMs: number;
}

/** Sequential creates (one at a time: each pays a whole write), then bursts of BURST concurrent ones. */
async function measure(proxy: ProxyProcess, sequential: number, preload: number): Promise<Figures> {
  const agent = new Agent({ keepAlive: true, maxSockets: BURST });
  try {
    let n = 0;
    const next = (): string => `http://127.0.0.1:9/bench-state/${n++}.ts`;
    for (let i = 0; i < 20; i++) await post(agent, proxy.base, next()); // warm-up: JIT, sockets
    const timed = async (count: number): Promise<number[]> => {
      const ms: number[] = [];
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await post(agent, proxy.base, next());
        ms.push(performance.now() - t0);
      }
      return ms;
    };
    const seq = await timed(sequential);
    const writesBefore = await stateWrites(proxy.base);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: BURST }, () => post(agent, proxy.base, next())));
    const burstMs = performance.now() - t0;
    const burstWrites = (await stateWrites(proxy.base)) - writesBefore;
    // A larger registry: every write is a snapshot of all streams, so a create costs more as streams accumulate.
    while (n < preload) await Promise.all(Array.from({ length: BURST }, () => post(agent, proxy.base, next())));
    const big = await timed(sequential);
    return { seqMedianMs: median(seq), seqP95Ms: percentile(seq, 95), burstMs, burstWrites, bigMedianMs: median(big) };
  } finally {
    agent.destroy();
  }
}

/** Report lines for the bench output. */
export async function benchState(quick: boolean): Promise<string[]> {
  const sequential = quick ? 100 : 300;
  const preload = quick ? 2_000 : 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'm3u-bench-state-'));
  const rows: string[] = [];
  try {
    for (const [label, stateFile] of [['off (memory only)', ''], ['on (STATE_FILE)', join(dir, 'state.json')]] as const) {
      const proxy = await startProxy({ STATE_FILE: stateFile });
      try {
        log(`state ${label}: ${sequential} sequential creates, ${BURST} concurrent, then with ${preload} streams…`);
        const f = await measure(proxy, sequential, preload);
        const writes = Number.isNaN(f.burstWrites) ? '-' : String(f.burstWrites);
        rows.push(
          `  ${label.padEnd(18)} ${f.seqMedianMs.toFixed(2).padStart(8)} ${f.seqP95Ms.toFixed(2).padStart(8)} ${f.burstMs.toFixed(1).padStart(9)} ${writes.padStart(7)} ${f.bigMedianMs.toFixed(2).padStart(10)}`,
        );
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    `POST /streams with the state file off and on (keep-alive client; ${sequential} sequential creates; ${BURST} concurrent; ${preload} streams registered):`,
    `  ${'state'.padEnd(18)} ${'med ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${`${BURST}× ms`.padStart(9)} ${'writes'.padStart(7)} ${`med@${preload / 1000}k`.padStart(10)}`,
    ...rows,
  ];
}
