// Time to first byte (issue 24 item 8): a player's GET of an already-created stream, from the request to its first
// body byte, on a new connection each time (as a player starting), against the origin itself, Node's floor
// (floor-process.ts), the proxy and nginx, probes interleaved so that the shared machine's drift hits every column.
// - cold live: a 4 Mbit/s live channel nobody watches: the proxy must open the origin (target: ≤ Node's floor);
// - cold file: a 16 KiB file (Content-Length: the proxy's own-session path);
// - live join: the same channel while one viewer plays it: the proxy answers from its join buffer (SPEC §5.5; target
//   ≤ 1.5 ms); the floor and nginx have no such buffer and open the origin again.
// Bounded: 30 warm-up probes and `rounds` measured ones per row and target, each with a 10 s timeout.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFloor, type FloorProcess } from './floor-process.ts';
import { LIVE_RATE_BPS } from './paced.ts';
import { createStream, startProxy, type ProxyProcess } from './proxy.ts';
import { log } from './results.ts';
import { median, percentile } from './stats.ts';

export interface FirstByteRun {
  originPort: number;
  /** nginx's base URL (plain reverse proxy to the same origin), or why there is none. */
  nginxBase: string | undefined;
  rounds: number;
}

type Column = 'direct' | 'floor' | 'proxy' | 'nginx';
const COLUMNS: readonly Column[] = ['direct', 'floor', 'proxy', 'nginx'];
/** Unmeasured probes per row and column before the measured rounds. */
const WARMUP_PROBES = 30;

/** Milliseconds from the request to the first body byte, on a connection of its own; undefined on a failure. */
export function firstByteMs(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.get(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.destroy();
        return resolve(undefined);
      }
      res.once('data', () => {
        resolve(performance.now() - t0);
        req.destroy();
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
  });
}

/** A player that keeps reading `url` until stop(). */
function holdViewer(url: string): { stop(): void } {
  const req = http.get(url, { agent: false }, (res) => res.resume());
  req.on('error', () => undefined); // ended by stop(); a failure shows as slow joins
  return { stop: () => req.destroy() };
}

interface RowSpec {
  name: string;
  /** Path on the origin (direct, floor and nginx take it as is; the proxy plays it through a created stream). */
  path: string;
  /** One viewer plays the URL while the probes run. */
  held: boolean;
  /** The proxy's figure must stay within this many ms (undefined: ≤ the floor's median). */
  limitMs?: number;
  /**
   * The origin by this host name instead of 127.0.0.1, for the proxy, the floor and the direct column (providers are
   * names; Node looks a name up for every new socket). nginx stays on 127.0.0.1: it resolves a configured name once, at start.
   */
  host?: string;
}

/** Runs the rows; returns the table (medians and p95 over all probes, ratios of the medians). */
export async function benchFirstByte(run: FirstByteRun): Promise<string> {
  let proxy: ProxyProcess | undefined;
  let floor: FloorProcess | undefined;
  let floorByName: FloorProcess | undefined;
  const held: Array<{ stop(): void }> = [];
  const lines: string[] = [];
  try {
    proxy = await startProxy();
    floor = await startFloor(run.originPort);
    floorByName = await startFloor(run.originPort, 'localhost');
    const liveMs = 10 * 60_000;
    const specs: RowSpec[] = [
      { name: 'cold live channel', path: `/live/fb-cold.ts?rate=${LIVE_RATE_BPS}&ms=${liveMs}`, held: false },
      { name: 'cold live channel, provider by host name', path: `/live/fb-name.ts?rate=${LIVE_RATE_BPS}&ms=${liveMs}`, held: false, host: 'localhost' },
      { name: 'cold 16 KiB file', path: '/small/fb.ts', held: false },
      { name: 'join a live channel', path: `/live/fb-join.ts?rate=${LIVE_RATE_BPS}&ms=${liveMs}`, held: true, limitMs: 1.5 },
    ];
    lines.push('Time to first byte (ms; new connection per probe, GET of an already-created stream; medians over all probes, interleaved):');
    lines.push('| case | direct | node floor | proxy | nginx | proxy p95 | proxy/floor | proxy/nginx | target | ok? |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const spec of specs) {
      const origin = `http://${spec.host ?? '127.0.0.1'}:${run.originPort}`;
      const s = await createStream(proxy.base, origin + spec.path);
      if ('error' in s) throw new Error(s.error);
      const urls: Record<Column, string | undefined> = {
        direct: origin + spec.path,
        floor: (spec.host === undefined ? floor : floorByName).base + spec.path,
        proxy: proxy.base + s.endpoint,
        nginx: run.nginxBase === undefined ? undefined : run.nginxBase + spec.path,
      };
      if (spec.held) {
        // Each column's own player of the channel, and time for the proxy's join buffer to hold a decodable start.
        for (const c of COLUMNS) {
          const u = urls[c];
          if (u !== undefined) held.push(holdViewer(c === 'proxy' ? `${u}?client_id=fb-held` : u));
        }
        await sleep(1500);
      }
      // Warm-up: JIT and the first connections, not measured. Paced like the rounds: unpaced, a cold row's warm-up
      // probes joined the channel the one before had left open, so the proxy's cold opening code was not warmed.
      for (const c of COLUMNS) {
        const u = urls[c];
        if (u === undefined) continue;
        for (let i = 0; i < WARMUP_PROBES; i++) {
          await firstByteMs(u);
          if (!spec.held) await sleep(5);
        }
      }
      const ms: Record<Column, number[]> = { direct: [], floor: [], proxy: [], nginx: [] };
      for (let r = 0; r < run.rounds; r++) {
        for (let k = 0; k < COLUMNS.length; k++) {
          const c = COLUMNS[(k + r) % COLUMNS.length] as Column;
          const u = urls[c];
          if (u === undefined) continue;
          const v = await firstByteMs(c === 'proxy' ? `${u}?client_id=fb-${r}` : u);
          if (v !== undefined) ms[c].push(v);
        }
        // A cold channel must be closed again before the next probe: the proxy closes its upstream when the last
        // viewer leaves, and the next GET must not find it still open.
        if (!spec.held) await sleep(5);
      }
      for (const h of held.splice(0)) h.stop();
      const m = (c: Column): number => median(ms[c]);
      const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
      const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '-');
      const limit = spec.limitMs ?? m('floor');
      const target = spec.limitMs !== undefined ? `≤ ${spec.limitMs} ms` : '≤ node floor';
      const ok = Number.isFinite(m('proxy')) && m('proxy') <= limit ? 'ok' : 'MISS';
      lines.push(
        `| ${spec.name} | ${fmt(m('direct'))} | ${fmt(m('floor'))} | ${fmt(m('proxy'))} | ${run.nginxBase === undefined ? 'skipped' : fmt(m('nginx'))} | ${fmt(percentile(ms.proxy, 95))} | ${ratio(m('proxy'), m('floor'))} | ${ratio(m('proxy'), m('nginx'))} | ${target} | ${ok} |`,
      );
      log(`first byte, ${spec.name}: ${COLUMNS.map((c) => `${c} ${fmt(m(c))} ms (${ms[c].length})`).join(', ')}`);
    }
    lines.push(`${run.rounds} probes per case and column; the proxy's probes each with their own client_id.`);
    lines.push('By host name: the proxy, the floor and the direct client reach the origin as localhost; nginx at 127.0.0.1 as in every row (it resolves a configured name once, at start).');
    return lines.join('\n');
  } finally {
    for (const h of held) h.stop();
    await floor?.stop();
    await floorByName?.stop();
    await proxy?.stop();
  }
}
