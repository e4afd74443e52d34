// Two builds of the proxy on time to first byte (issue 24 item 8), beside Node's floor: a cold live channel and a cold
// file, as in first-byte.ts. Single figures on a shared machine move by a fifth between runs, so the builds run side
// by side. A probe pays for whatever ran just before it (the previous server's teardown), so every round takes the
// three servers in another of their six orders. And two processes of one build already differ by a few percent with
// their start order, so each run is made both ways round and B/A is the geometric mean of the two. Not run by CI.
// Usage: A_ENTRY=<a build's dist/main.cjs> [B_ENTRY=<another>] node --import tsx test/bench/first-byte-ab.ts [--rounds=150] [--runs=2]
// [--host=localhost]: the proxies and the floor reach the origin by that name (as providers are reached) instead of 127.0.0.1.
// Without an entry a proxy runs this checkout's build (see live-ab.ts for making another build's dist/).
import { setTimeout as sleep } from 'node:timers/promises';
import { firstByteMs } from './first-byte.ts';
import { startFloor } from './floor-process.ts';
import { LIVE_RATE_BPS } from './paced.ts';
import { createStream, startChildren, startProxy, type Children } from './proxy.ts';
import { median } from './stats.ts';

const arg = (name: string, def: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const ORIGIN_HOST = process.argv.find((a) => a.startsWith('--host='))?.slice('--host='.length) ?? '127.0.0.1';
const ORDERS = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] as const;
const CASES = [
  { name: 'cold live channel', path: `/live/ab.ts?rate=${LIVE_RATE_BPS}&ms=600000` },
  { name: 'cold 16 KiB file', path: '/small/ab.ts' },
];
/** Rounds before the measured ones, as first-byte.ts warms up: the first probes of a process measure V8 compiling. */
const WARMUPS = 3;

type Medians = Record<'floor' | 'first' | 'second', number>;

/** One run: the floor and two proxies (`first` started first), every case; medians per case. */
async function run(children: Children, firstEntry: string | undefined, secondEntry: string | undefined, rounds: number): Promise<Medians[]> {
  const first = await startProxy({}, { entry: firstEntry });
  const second = await startProxy({}, { entry: secondEntry });
  const floor = await startFloor(children.originPort, ORIGIN_HOST);
  try {
    const out: Medians[] = [];
    for (const c of CASES) {
      const origin = `http://${ORIGIN_HOST}:${children.originPort}${c.path}`;
      const s1 = await createStream(first.base, origin);
      const s2 = await createStream(second.base, origin);
      if ('error' in s1 || 'error' in s2) throw new Error(`POST /streams failed for ${c.name}`);
      const urls = [floor.base + c.path, first.base + s1.endpoint, second.base + s2.endpoint];
      const ms: number[][] = [[], [], []];
      for (let r = -WARMUPS; r < rounds; r++) {
        for (const i of ORDERS[(r + WARMUPS) % ORDERS.length] ?? ORDERS[0]) {
          const v = await firstByteMs(i === 0 ? (urls[0] ?? '') : `${urls[i]}?client_id=ab-${r}`);
          if (r >= 0 && v !== undefined) ms[i]?.push(v);
        }
        // A cold channel must be closed again before the next round (see first-byte.ts).
        await sleep(5);
      }
      out.push({ floor: median(ms[0] ?? []), first: median(ms[1] ?? []), second: median(ms[2] ?? []) });
    }
    return out;
  } finally {
    await floor.stop();
    await first.stop();
    await second.stop();
  }
}

const children = await startChildren();
try {
  const rounds = arg('rounds', 150);
  const a = process.env['A_ENTRY'];
  const b = process.env['B_ENTRY'];
  for (let k = 0; k < arg('runs', 2); k++) {
    const ab = await run(children, a, b, rounds);
    const ba = await run(children, b, a, rounds);
    CASES.forEach((c, i) => {
      const x = ab[i];
      const y = ba[i];
      if (x === undefined || y === undefined) return;
      const ratio = Math.sqrt((x.second / x.first) * (y.first / y.second));
      const f = (v: number): string => v.toFixed(2);
      process.stdout.write(
        `run ${k + 1}, ${c.name}: A ${f(x.first)}/${f(y.second)} ms, B ${f(x.second)}/${f(y.first)} ms, floor ${f(x.floor)}/${f(y.floor)} ms; ` +
          `A/floor ${f(Math.sqrt((x.first / x.floor) * (y.second / y.floor)))}×, B/floor ${f(Math.sqrt((x.second / x.floor) * (y.first / y.floor)))}×, B/A ${f(ratio)}×\n`,
      );
    });
  }
} finally {
  await children.stop();
}
