// `monitor`: polls GET /stats and shows streams and clients with live bit rates from byte deltas; redraws in place on a TTY.
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from './args.ts';
import { createApiClient, ServerError } from './client.ts';
import type { CommandContext } from './context.ts';
import { asObject, asObjects, cell, formatAgo, formatBitrate, formatDuration, formatTable, num, str, type JsonObject } from './format.ts';
import { shortId } from './views.ts';

const DEFAULT_INTERVAL_S = 2;

/** Byte counters at one poll, keyed so that rates can be matched across polls. */
export interface Snapshot {
  readonly atMs: number;
  readonly totalBytes: number;
  readonly streams: ReadonlyMap<string, number>;
  readonly clients: ReadonlyMap<string, number>;
}

/** Bits per second since the previous poll; absent where there is nothing to compare with. */
export interface Rates {
  readonly total: number | undefined;
  readonly streams: ReadonlyMap<string, number>;
  readonly clients: ReadonlyMap<string, number>;
}

/** A client session: one id may hold several sessions (SPEC §5.3), told apart by their start time. */
function clientKey(c: JsonObject): string {
  return `${str(c, 'stream_id') ?? ''}/${str(c, 'client_id') ?? ''}/${str(c, 'created_at') ?? ''}`;
}

export function takeSnapshot(body: unknown, atMs: number): Snapshot {
  const o = asObject(body);
  const streams = new Map<string, number>();
  for (const s of asObjects(o['streams'])) streams.set(str(s, 'stream_id') ?? '', num(s, 'total_bytes_served') ?? 0);
  const clients = new Map<string, number>();
  for (const c of asObjects(o['clients'])) clients.set(clientKey(c), num(c, 'bytes_served') ?? 0);
  return { atMs, totalBytes: num(o, 'total_bytes_served') ?? 0, streams, clients };
}

export function computeRates(prev: Snapshot | undefined, cur: Snapshot): Rates {
  const seconds = prev === undefined ? 0 : (cur.atMs - prev.atMs) / 1000;
  // A counter that went down means the stream was re-created or the server restarted: no rate rather than a negative one.
  const rate = (before: number | undefined, now: number): number | undefined =>
    before === undefined || seconds <= 0 || now < before ? undefined : ((now - before) * 8) / seconds;
  const pick = (now: ReadonlyMap<string, number>, before: ReadonlyMap<string, number> | undefined) => {
    const out = new Map<string, number>();
    for (const [key, bytes] of now) {
      const r = rate(before?.get(key), bytes);
      if (r !== undefined) out.set(key, r);
    }
    return out;
  };
  return { total: rate(prev?.totalBytes, cur.totalBytes), streams: pick(cur.streams, prev?.streams), clients: pick(cur.clients, prev?.clients) };
}

const bitrate = (r: number | undefined): string => (r === undefined ? '-' : formatBitrate(r));

export function renderMonitorFrame(body: unknown, rates: Rates, meta: { url: string; nowMs: number; intervalS: number }): string {
  const o = asObject(body);
  const streams = asObjects(o['streams']);
  const clients = asObjects(o['clients']);
  const time = new Date(meta.nowMs).toISOString().slice(11, 19);
  const lines = [
    `m3u-proxy monitor  ${meta.url}  ${time}Z  every ${meta.intervalS}s`,
    [
      `uptime ${formatDuration(num(o, 'uptime_seconds') ?? NaN)}`,
      `streams ${cell.int(num(o, 'total_streams'))} (${cell.int(num(o, 'active_streams'))} active)`,
      `clients ${cell.int(num(o, 'active_clients'))}`,
      `served ${cell.bytes(num(o, 'total_bytes_served'))}`,
      `now ${bitrate(rates.total)}`,
    ].join('   '),
    '',
  ];
  if (streams.length === 0) lines.push('No streams.');
  else {
    lines.push(
      formatTable(
        [{ title: 'stream' }, { title: 'type' }, { title: 'clients', align: 'right' }, { title: 'rate', align: 'right' }, { title: 'served', align: 'right' }, { title: 'url' }],
        streams.map((s) => [
          shortId(str(s, 'stream_id')),
          cell.text(str(s, 'stream_type')),
          cell.int(num(s, 'client_count')),
          bitrate(rates.streams.get(str(s, 'stream_id') ?? '')),
          cell.bytes(num(s, 'total_bytes_served')),
          cell.text(str(s, 'current_url')),
        ]),
      ),
    );
  }
  if (clients.length > 0) {
    lines.push(
      '',
      formatTable(
        [{ title: 'client' }, { title: 'stream' }, { title: 'ip' }, { title: 'rate', align: 'right' }, { title: 'served', align: 'right' }, { title: 'last seen' }],
        clients.map((c) => [
          cell.text(str(c, 'client_id')),
          shortId(str(c, 'stream_id')),
          cell.text(str(c, 'ip_address')),
          bitrate(rates.clients.get(clientKey(c))),
          cell.bytes(num(c, 'bytes_served')),
          formatAgo(str(c, 'last_access'), meta.nowMs),
        ]),
      ),
    );
  }
  return lines.join('\n');
}

/** A timer longer than this (~24.8 days) fires after 1 ms: Node clamps it. */
const MAX_INTERVAL_S = Math.floor(2_147_483_647 / 1000);

function parsePositive(v: unknown, flag: string, integer: boolean): number | undefined {
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`monitor: --${flag} '${v}' must be a positive ${integer ? 'integer' : 'number'}`);
  }
  if (!integer && n > MAX_INTERVAL_S) throw new UsageError(`monitor: --${flag} '${v}' is over ${MAX_INTERVAL_S} seconds`);
  return n;
}

const ANSI = { home: '\x1b[H', clearScreen: '\x1b[2J', clearLine: '\x1b[K', clearBelow: '\x1b[J', hideCursor: '\x1b[?25l', showCursor: '\x1b[?25h' };

/** Polls until Ctrl-C, the caller's signal, or --count polls; a failed first poll is an error, later ones are shown and retried. */
export async function runMonitor(ctx: CommandContext): Promise<number> {
  const intervalS = parsePositive(ctx.options['interval'], 'interval', false) ?? DEFAULT_INTERVAL_S;
  const count = parsePositive(ctx.options['count'], 'count', true);
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  // Ctrl-C ends a monitor normally (exit 0); without a caller's signal the command owns SIGINT while it runs.
  if (ctx.signal === undefined) process.once('SIGINT', onSigint);
  else if (ctx.signal.aborted) stop.abort();
  else ctx.signal.addEventListener('abort', onSigint, { once: true });
  const api = createApiClient(ctx.globals, stop.signal);
  const tty = ctx.stdout.isTTY === true && !ctx.globals.json;
  const columns = (ctx.stdout as { columns?: number }).columns;

  const draw = (frame: string, first: boolean) => {
    if (!tty) {
      ctx.stdout.write(frame + '\n\n');
      return;
    }
    // Overwrite in place: go home, clear each line's tail, then everything below; cut lines so none wraps.
    const lines = frame.split('\n').map((l) => (columns !== undefined && l.length > columns ? l.slice(0, columns) : l));
    ctx.stdout.write((first ? ANSI.clearScreen : '') + ANSI.home + lines.map((l) => l + ANSI.clearLine).join('\n') + '\n' + ANSI.clearBelow);
  };

  let prev: Snapshot | undefined;
  let polls = 0;
  if (tty) ctx.stdout.write(ANSI.hideCursor);
  try {
    while (!stop.signal.aborted) {
      let body: unknown;
      try {
        body = await api.request('GET', '/stats');
      } catch (err) {
        if (stop.signal.aborted) break;
        if (!(err instanceof ServerError) || polls === 0) throw err;
        draw(`m3u-proxy monitor  ${ctx.globals.url}: ${err.message}; retrying every ${intervalS}s`, false);
      }
      if (body !== undefined) {
        const snap = takeSnapshot(body, ctx.now());
        const rates = computeRates(prev, snap);
        prev = snap;
        if (ctx.globals.json) {
          const streams = Object.fromEntries(rates.streams);
          ctx.stdout.write(JSON.stringify({ time: new Date(snap.atMs).toISOString(), bitrate_bps: rates.total ?? null, stream_bitrates_bps: streams, stats: body }) + '\n');
        } else {
          draw(renderMonitorFrame(body, rates, { url: ctx.globals.url, nowMs: snap.atMs, intervalS }), polls === 0);
        }
      }
      polls++;
      if (count !== undefined && polls >= count) break;
      await sleep(intervalS * 1000, undefined, { signal: stop.signal }).catch((err: unknown) => {
        if (!stop.signal.aborted) throw err; // only our own abort ends the wait early
      });
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    ctx.signal?.removeEventListener('abort', onSigint);
    if (tty) ctx.stdout.write(ANSI.showCursor);
  }
  return 0;
}
