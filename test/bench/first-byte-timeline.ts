// Where a cold first byte's time goes (issue 24 item 8), step by step, in the proxy and in Node's floor side by side:
// timeline-preload.cjs stamps each step inside both servers on the clock every process shares, and the client
// stamps its request and its first body byte. Medians per step over all probes, in ms from the client's request.
// The servers in a new order each round (as first-byte-ab.ts), one probe at a time, 5 ms apart. Not run by CI.
// Usage: node --import tsx test/bench/first-byte-timeline.ts [--rounds=200] [--host=localhost] [--file]
// (--file: the cold 16 KiB file instead of the cold live channel; BENCH_PROXY_ENTRY=<a build> as for the bench.)
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startFloor } from './floor-process.ts';
import { LIVE_RATE_BPS } from './paced.ts';
import { createStream, startChildren, startProxy } from './proxy.ts';
import { median } from './stats.ts';

const arg = (name: string, def: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const HOST = process.argv.find((a) => a.startsWith('--host='))?.slice('--host='.length) ?? '127.0.0.1';
const PATH = process.argv.includes('--file') ? '/small/tl.ts' : `/live/tl.ts?rate=${LIVE_RATE_BPS}&ms=600000`;
const WARMUPS = 30;
const PRELOAD = fileURLToPath(new URL('./timeline-preload.cjs', import.meta.url));
/** The steps a server stamps, in their order, and how the table names them. */
const STEPS: ReadonlyArray<[key: string, label: string]> = [
  ['request', 'request event'],
  ['call', 'http.request() called'],
  ['returned', 'http.request() returned'],
  ['connected', 'upstream connected, request written'],
  ['response', 'upstream response headers'],
  ['write', 'first write to the player'],
];

type Stamps = Partial<Record<string, number>>;
interface Probe {
  t0: number;
  t1: number;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** A new connection's GET: the client's request and first body byte on the shared clock; undefined on a failure. */
function probe(url: string): Promise<Probe | undefined> {
  return new Promise((resolve) => {
    const t0 = now();
    const req = http.get(url, { agent: false }, (res) => {
      res.once('data', () => {
        resolve({ t0, t1: now() });
        req.destroy();
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
  });
}

const out = { floor: join(tmpdir(), `timeline-floor-${process.pid}.json`), proxy: join(tmpdir(), `timeline-proxy-${process.pid}.json`) };
const children = await startChildren();
const rounds = arg('rounds', 200);
const client: Record<'floor' | 'proxy', Array<Probe | undefined>> = { floor: [], proxy: [] };
try {
  const proxy = await startProxy({ TIMELINE_OUT: out.proxy }, { nodeArgs: `-r ${PRELOAD}` });
  process.env['BENCH_FLOOR_NODE_ARGS'] = `-r ${PRELOAD}`;
  process.env['TIMELINE_OUT'] = out.floor;
  const floor = await startFloor(children.originPort, HOST);
  try {
    const s = await createStream(proxy.base, `http://${HOST}:${children.originPort}${PATH}`);
    if ('error' in s) throw new Error(s.error);
    const urls = { floor: floor.base + PATH, proxy: `${proxy.base}${s.endpoint}?client_id=timeline` };
    for (let r = 0; r < WARMUPS + rounds; r++) {
      for (const c of r % 2 === 0 ? (['floor', 'proxy'] as const) : (['proxy', 'floor'] as const)) {
        client[c].push(await probe(urls[c]));
        // A cold channel must be closed again before the next probe (see first-byte.ts).
        await sleep(5);
      }
    }
  } finally {
    // Their stamps are written as they exit.
    await floor.stop();
    await proxy.stop();
  }
  // Per server: the median time of each step from the client's request, and the median length of each step itself.
  const medians: Record<'floor' | 'proxy', number[]> = { floor: [], proxy: [] };
  const steps: Record<'floor' | 'proxy', number[]> = { floor: [], proxy: [] };
  for (const c of ['floor', 'proxy'] as const) {
    const stamps = JSON.parse(readFileSync(out[c], 'utf8')) as Stamps[];
    // Every probe made one record, in order; the warm-ups are the first ones.
    const measured = client[c].slice(WARMUPS);
    const mine = stamps.slice(stamps.length - measured.length);
    const at = (key: string): number[] => measured.map((p, i) => (p === undefined ? Number.NaN : (mine[i]?.[key] ?? Number.NaN) - p.t0));
    const series = [...STEPS.map(([key]) => at(key)), measured.map((p) => (p === undefined ? Number.NaN : p.t1 - p.t0))];
    medians[c] = series.map(median);
    // A step is measured from the step before it that happened (a reused upstream socket has no connect).
    const before = (i: number, k: number): number => {
      for (let j = i - 1; j >= 0; j--) if (Number.isFinite(series[j]?.[k])) return series[j]?.[k] ?? Number.NaN;
      return 0;
    };
    steps[c] = series.map((xs, i) => median(xs.map((x, k) => x - before(i, k))));
  }
  const f = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(2));
  const lines = [`Cold first byte, ${PATH.startsWith('/live/') ? 'live channel' : '16 KiB file'} by ${HOST}: median ms from the client's request (${rounds} probes each)`];
  lines.push('| step | node floor | proxy | proxy − floor | step, floor | step, proxy |', '|---|---|---|---|---|---|');
  const labels = [...STEPS.map(([, label]) => label), 'first body byte at the client'];
  labels.forEach((label, i) => {
    const a = medians.floor[i];
    const b = medians.proxy[i];
    lines.push(`| ${label} | ${f(a)} | ${f(b)} | ${f((b ?? Number.NaN) - (a ?? Number.NaN))} | ${f(steps.floor[i])} | ${f(steps.proxy[i])} |`);
  });
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  await children.stop();
  for (const file of Object.values(out)) rmSync(file, { force: true });
}
