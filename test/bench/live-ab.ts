// Two builds or settings of the proxy against the live floor in one run (issue 10 item 8): the floor (live-floor.ts)
// and proxies A and B play N unthrottled live channels in turn, the order rotating every run, so that the machine's
// drift hits all three alike; prints each run and the medians and ranges of the per-run ratios. Not run by CI.
// Usage: [A_ENTRY=<other build's dist/main.cjs>] [A_ENV=K=V,..] [A_ARGS='<node flags>'] (same for B)
//        node --import tsx test/bench/live-ab.ts [--players=100] [--runs=12] [--ms=3000]
// Without an entry a proxy runs this checkout's build. Example, this build (B) against main's (A):
//   mkdir /tmp/base && git archive main | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   (cd /tmp/base && npm run build) && A_ENTRY=/tmp/base/dist/main.cjs node --import tsx test/bench/live-ab.ts
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ThroughputResult } from './load.ts';
import { LIVE_FLOOR_SOURCE } from './live-floor.ts';
import { createStream, freePort, startChildren, startProxy, type Children } from './proxy.ts';
import { cpuSecondsOf, median } from './stats.ts';

type Name = 'F' | 'A' | 'B';
interface Run {
  mbs: number;
  cpuSPerGB: number;
}

const arg = (name: string, def: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
/** Latin square of the three: each one first, second and third equally often. */
const ORDERS: readonly (readonly Name[])[] = [
  ['F', 'A', 'B'],
  ['B', 'F', 'A'],
  ['A', 'B', 'F'],
  ['F', 'B', 'A'],
  ['A', 'F', 'B'],
  ['B', 'A', 'F'],
];

function envOf(spec: string | undefined): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const kv of (spec ?? '').split(',').filter((x) => x.includes('='))) out[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  return out;
}

async function measure(children: Children, urls: string[], pid: number, ms: number): Promise<Run> {
  const cpu0 = cpuSecondsOf(pid);
  const r = (await children.run({ kind: 'throughput', urls, readers: urls.length, durationMs: ms })) as ThroughputResult;
  const cpu = cpuSecondsOf(pid) - cpu0;
  return { mbs: r.bytes / 1e6 / (r.elapsedMs / 1000), cpuSPerGB: r.bytes > 0 ? cpu / (r.bytes / 1e9) : Infinity };
}

function summary(x: Name, y: Name, runs: Record<Name, Run[]>): string {
  const ratios = (f: keyof Run): number[] => runs[x].map((v, i) => v[f] / (runs[y][i]?.[f] ?? Number.NaN));
  const show = (xs: number[]): string => `${median(xs).toFixed(2)}× [${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}]`;
  return `${x}/${y}: MB/s ${show(ratios('mbs'))}  CPU s/GB ${show(ratios('cpuSPerGB'))}\n`;
}

const children = await startChildren();
const floorPort = await freePort();
const floor = spawn(process.execPath, ['-e', LIVE_FLOOR_SOURCE, String(children.originPort), String(floorPort)], { stdio: 'ignore' });
const a = await startProxy(envOf(process.env['A_ENV']), { entry: process.env['A_ENTRY'], nodeArgs: process.env['A_ARGS'] ?? '' });
const b = await startProxy(envOf(process.env['B_ENV']), { entry: process.env['B_ENTRY'], nodeArgs: process.env['B_ARGS'] ?? '' });
try {
  await sleep(300);
  const n = arg('players', 100);
  const urls: Record<Name, string[]> = { F: Array.from({ length: n }, (_, k) => `http://127.0.0.1:${floorPort}/unthrottled/c${k}.ts`), A: [], B: [] };
  for (const [name, p] of [['A', a], ['B', b]] as const) {
    for (let k = 0; k < n; k++) {
      const s = await createStream(p.base, `http://127.0.0.1:${children.originPort}/unthrottled/c${k}.ts`);
      if ('error' in s) throw new Error(s.error);
      urls[name].push(p.base + s.endpoint);
    }
  }
  const pids: Record<Name, number> = { F: floor.pid ?? 0, A: a.pid, B: b.pid };
  for (const k of ['F', 'A', 'B'] as const) await measure(children, urls[k], pids[k], 500); // warm-up
  const runs: Record<Name, Run[]> = { F: [], A: [], B: [] };
  for (let run = 0; run < arg('runs', 12); run++) {
    for (const k of ORDERS[run % ORDERS.length] ?? []) runs[k].push(await measure(children, urls[k], pids[k], arg('ms', 3000)));
    const show = (k: Name): string => `${k} ${runs[k][run]?.mbs.toFixed(0)} MB/s ${runs[k][run]?.cpuSPerGB.toFixed(2)} s/GB`;
    process.stdout.write(`run ${run}: ${show('F')} | ${show('A')} | ${show('B')}\n`);
  }
  process.stdout.write(summary('A', 'F', runs) + summary('B', 'F', runs) + summary('B', 'A', runs));
} finally {
  floor.kill('SIGTERM');
  await a.stop();
  await b.stop();
  await children.stop();
}
