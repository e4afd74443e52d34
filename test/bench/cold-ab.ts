// Two builds of the proxy on the first fetch of a 20,000-segment playlist (issue 12 item 7), interleaved: each round
// creates a new stream on A and on B (the order alternating) and fetches its playlist three times with the bench's
// load client: cold, second (the playlist is VOD, which the rewrite memo keeps only from its second fetch) and third. Single runs on a shared machine swing by a third; the per-round ratio cancels the drift.
// Not run by CI.
// Usage: [A_ENTRY=<other build's dist/main.cjs>] [B_ENTRY=...] node --import tsx test/bench/cold-ab.ts [--rounds=30]
// Without an entry a proxy runs this checkout's build (see live-ab.ts for making another build's dist/).
import type { PlaylistResult } from './load.ts';
import { createStream, startChildren, startProxy, type Children, type ProxyProcess } from './proxy.ts';
import { median } from './stats.ts';

const arg = (name: string, def: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
/** Rounds before the measured ones: the first playlists of a process measure V8 compiling the rewriter. */
const WARMUPS = 8;

interface Fetch {
  cold: number;
  second: number;
  third: number;
}

async function fetchThrice(children: Children, p: ProxyProcess, originUrl: string): Promise<Fetch> {
  const s = await createStream(p.base, originUrl);
  if ('error' in s) throw new Error(s.error);
  const r = (await children.run({ kind: 'playlist', url: p.base + s.endpoint, count: 3, keepUris: 0 })) as PlaylistResult;
  const [cold, second, third] = r.ms;
  if (cold === undefined || second === undefined || third === undefined) throw new Error(`playlist fetch failed: ${JSON.stringify(r.statuses)}`);
  return { cold, second, third };
}

const children = await startChildren();
const a = await startProxy({}, { entry: process.env['A_ENTRY'] });
const b = await startProxy({}, { entry: process.env['B_ENTRY'] });
try {
  const rounds = arg('rounds', 30);
  const runs: Record<'A' | 'B', Fetch[]> = { A: [], B: [] };
  for (let round = -WARMUPS; round < rounds; round++) {
    const order = round % 2 === 0 ? ([['A', a], ['B', b]] as const) : ([['B', b], ['A', a]] as const);
    for (const [name, p] of order) {
      // A new stream each time (the origin ignores the query), so that every first fetch is cold.
      const f = await fetchThrice(children, p, `http://127.0.0.1:${children.originPort}/hls/vod.m3u8?ab=${name}${round}`);
      if (round >= 0) runs[name].push(f);
    }
  }
  const show = (name: 'A' | 'B', k: keyof Fetch): string => `${median(runs[name].map((f) => f[k])).toFixed(1)} ms`;
  const ratio = (k: keyof Fetch): string => median(runs.B.map((f, i) => f[k] / (runs.A[i]?.[k] ?? Number.NaN))).toFixed(2);
  process.stdout.write(`${rounds} rounds, medians: cold A ${show('A', 'cold')}, B ${show('B', 'cold')}, B/A ${ratio('cold')}×\n`);
  for (const k of ['second', 'third'] as const) process.stdout.write(`${k} A ${show('A', k)}, B ${show('B', k)}, B/A ${ratio(k)}×\n`);
} finally {
  await a.stop();
  await b.stop();
  await children.stop();
}
