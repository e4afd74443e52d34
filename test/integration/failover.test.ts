// Failover (SPEC §5.1, §5.3): at start, mid-stream (reset, stall), VOD resume by Range, and manual switches.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { test } from 'node:test';
import type { ProxyEvent } from '../../src/core/events.ts';
import { type Behaviour, startOrigin, waitFor } from '../helpers/origin.ts';
import { md5, openPlayer } from '../helpers/player.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const PRIMARY = 0x41;
const BACKUP = 0x42;

async function createStream(base: string, url: string, failover: string[] = []): Promise<{ stream_id: string; stream_endpoint: string }> {
  const r = await api(base, 'POST', '/streams', { url, failover_urls: failover });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as { stream_id: string; stream_endpoint: string };
}

/** A file URL that sends `afterBytes` of the file and closes, then answers 503 to every later request. */
function breaksOnce(body: Buffer, afterBytes: number): Behaviour {
  let served = 0;
  return {
    kind: 'handler',
    handle(_req, res) {
      if (served++ > 0) {
        res.writeHead(503);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(body.length), 'accept-ranges': 'bytes' });
      res.write(body.subarray(0, afterBytes), () => res.socket?.destroy());
    },
  };
}

function collect(proxy: { app: { bus: { subscribe(l: (e: ProxyEvent) => void): () => void } } }, type: string): ProxyEvent[] {
  const out: ProxyEvent[] = [];
  proxy.app.bus.subscribe((e) => {
    if (e.event_type === type) out.push(e);
  });
  return out;
}

test('§5.3 failover at start: primary 5xx, the backup answers and becomes current_url', async (t) => {
  const origin = await startOrigin(t, {
    '/primary.ts': { kind: 'status', status: 503 },
    '/backup.ts': { kind: 'file', body: Buffer.alloc(10_000, BACKUP), contentType: 'video/mp2t' },
  });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/primary.ts'), [origin.url('/backup.ts')]);
  const failovers = collect(proxy, 'failover_triggered');
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  assert.equal(player.res.statusCode, 200);
  await player.done;
  assert.equal(player.bytes, 10_000);
  assert.equal(player.lastByte, BACKUP);
  assert.equal(failovers.length, 1);
  assert.equal(failovers[0]?.data['failover_index'], 1);
  assert.equal(failovers[0]?.data['new_url'], origin.url('/backup.ts'));
  const info = await api(proxy.base, 'GET', `/streams/${s.stream_id}`);
  assert.equal((info.body as { stream: { current_url: string } }).stream.current_url, origin.url('/backup.ts'));
});

test('§5.3 failover at start: primary refused or 404, the next URL plays', async (t) => {
  const dead = createServer();
  dead.listen(0, '127.0.0.1');
  await once(dead, 'listening');
  const addr = dead.address();
  assert.ok(addr && typeof addr === 'object');
  await new Promise<void>((resolve) => dead.close(() => resolve()));
  const origin = await startOrigin(t, {
    '/missing.ts': { kind: 'status', status: 404 },
    '/backup.ts': { kind: 'file', body: Buffer.alloc(5_000, BACKUP) },
  });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, `http://127.0.0.1:${addr.port}/live.ts`, [origin.url('/missing.ts'), origin.url('/backup.ts')]);
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  assert.equal(player.res.statusCode, 200);
  await player.done;
  assert.equal(player.bytes, 5_000);
  assert.equal(origin.hits('/missing.ts').length, 1, '404 moved on at once');
  assert.equal(proxy.app.registry.getStream(s.stream_id)?.currentIndex, 2);
});

test('§5.3 §8 players opening together over a dead primary: one switch, one failover_triggered, counted once', async (t) => {
  const origin = await startOrigin(t, {
    '/a.mp4': { kind: 'status', status: 503, delayMs: 200 },
    '/b.mp4': { kind: 'file', body: Buffer.alloc(20_000, BACKUP), contentType: 'video/mp4' },
  });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/a.mp4'), [origin.url('/b.mp4')]);
  const failovers = collect(proxy, 'failover_triggered');
  // Each walk starts at the primary before any of them has found the backup.
  const players = await Promise.all([1, 2, 3].map((n) => openPlayer(t, `${proxy.base}${s.stream_endpoint}?client_id=v${n}`)));
  for (const p of players) await p.done;
  assert.ok(players.every((p) => p.lastByte === BACKUP));
  assert.equal(origin.hits('/a.mp4').length, 3, 'all three walks started at the primary');
  assert.equal(failovers.length, 1, 'each player used to report the switch again');
  const stat = (await api(proxy.base, 'GET', `/streams/${s.stream_id}`)).body as { stream: { failover_count: number; current_url: string } };
  assert.equal(stat.stream.failover_count, 1);
  assert.equal(stat.stream.current_url, origin.url('/b.mp4'));
});

test('§5.1 mid-stream reset on a live stream: the player connection survives and gets the backup bytes', async (t) => {
  const origin = await startOrigin(t, {
    '/primary.ts': { kind: 'live', fill: PRIMARY, fault: { kind: 'reset', afterBytes: 64 * 1024 } },
    '/backup.ts': { kind: 'live', fill: BACKUP },
  });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/primary.ts'), [origin.url('/backup.ts')]);
  const failovers = collect(proxy, 'failover_triggered');
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  await waitFor(() => player.lastByte === BACKUP, 5_000, 'backup bytes at the player');
  const before = player.bytes;
  await player.waitBytes(before + 20_000);
  assert.equal(player.res.destroyed, false, 'the same player connection keeps going');
  assert.equal(failovers.length, 1);
  assert.equal(failovers[0]?.data['reason'], 'reset');
  assert.equal(proxy.app.registry.clientCount(s.stream_id), 1, 'still one session');
  const detailed = await api(proxy.base, 'GET', '/stats/detailed');
  const body = detailed.body as { failovers: { automatic: number }; errors_by_kind: Record<string, number>; performance: { live_connections: number } };
  assert.equal(body.failovers.automatic, 1);
  assert.equal(body.errors_by_kind['reset'], 1);
  assert.equal(body.performance.live_connections, 1);
});

test('§5.1 mid-stream stall (no bytes for DEFAULT_READ_TIMEOUT): the player moves to the backup', async (t) => {
  const origin = await startOrigin(t, {
    '/primary.ts': { kind: 'live', fill: PRIMARY, fault: { kind: 'stall', afterBytes: 32 * 1024 } },
    '/backup.ts': { kind: 'live', fill: BACKUP },
  });
  const proxy = await startProxy(t, { readTimeoutMs: 200 });
  const s = await createStream(proxy.base, origin.url('/primary.ts'), [origin.url('/backup.ts')]);
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  await player.waitBytes(32 * 1024);
  await waitFor(() => player.lastByte === BACKUP, 5_000, 'backup bytes after the stall');
  assert.equal(player.res.destroyed, false);
  // The stalled upstream was let go: its socket closed at the origin.
  await origin.lastRequest('/primary.ts').socketClosed;
  const stream = proxy.app.registry.getStream(s.stream_id);
  assert.equal(stream?.currentIndex, 1);
});

test('§5.1 VOD resume: a reset mid-file reconnects with Range to the same URL and stays byte-exact', async (t) => {
  const movie = randomBytes(2 * 1024 * 1024 + 3);
  const origin = await startOrigin(t, { '/movie.mp4': { kind: 'file', body: movie, fault: { kind: 'reset', afterBytes: 700_000, times: 1 } } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/movie.mp4'));
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  assert.equal(player.res.headers['content-length'], String(movie.length));
  assert.deepEqual(await player.done, { complete: true });
  assert.equal(player.md5(), md5(movie));
  const hits = origin.hits('/movie.mp4');
  assert.equal(hits.length, 2);
  assert.match(String(hits[1]?.headers.range), /^bytes=\d+-$/);
  await waitFor(() => proxy.app.registry.clientCount() === 0, 1_000, 'session end');
  assert.equal(proxy.app.registry.getStream(s.stream_id)?.bytesServed, movie.length, 'bytes counted once, exactly');
});

test('§5.1 VOD resume across failover URLs: the primary breaks and stays down, the backup continues at the next byte', async (t) => {
  const movie = randomBytes(1024 * 1024 + 7);
  const origin = await startOrigin(t, {
    '/a/movie.mp4': breaksOnce(movie, 300_000),
    '/b/movie.mp4': { kind: 'file', body: movie },
  });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/a/movie.mp4'), [origin.url('/b/movie.mp4')]);
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  assert.deepEqual(await player.done, { complete: true });
  assert.equal(player.md5(), md5(movie));
  const resumed = origin.hits('/b/movie.mp4');
  assert.equal(resumed.length, 1);
  assert.equal(resumed[0]?.headers.range, 'bytes=300000-');
  assert.equal(origin.hits('/a/movie.mp4').length, 2, 'the same URL was tried first');
});

test('§5.1 VOD resume refuses a backup that answers the wrong range (a different file)', async (t) => {
  const movie = randomBytes(600_000);
  const origin = await startOrigin(t, {
    '/a/movie.mp4': breaksOnce(movie, 100_000),
    '/b/movie.mp4': { kind: 'file', body: randomBytes(400_000) },
  });
  const proxy = await startProxy(t, { maxRetries: 1 });
  const s = await createStream(proxy.base, origin.url('/a/movie.mp4'), [origin.url('/b/movie.mp4')]);
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  assert.deepEqual(await player.done, { complete: false }, 'cut, rather than splicing another file in');
  assert.ok(player.body().equals(movie.subarray(0, player.bytes)), 'every byte received is the right one');
});

test('§5.3 manual failover moves a connected player to the backup without closing its connection', async (t) => {
  const origin = await startOrigin(t, {
    '/primary.ts': { kind: 'live', fill: PRIMARY },
    '/backup.ts': { kind: 'live', fill: BACKUP },
  });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/primary.ts'), [origin.url('/backup.ts')]);
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  await player.waitBytes(10_000);
  assert.equal(player.lastByte, PRIMARY);
  const primaryRequest = origin.lastRequest('/primary.ts');

  const r = await api(proxy.base, 'POST', `/streams/${s.stream_id}/failover`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { message: 'Failover successful', new_url: origin.url('/backup.ts'), failover_index: 1, failover_attempts: 1, active_clients: 1, stream_type: 'Live Continuous' });
  await waitFor(() => player.lastByte === BACKUP, 2_000, 'backup bytes after the manual failover');
  await primaryRequest.socketClosed;
  assert.equal(player.res.destroyed, false);

  // And back round the ring to the primary.
  await api(proxy.base, 'POST', `/streams/${s.stream_id}/failover`);
  await waitFor(() => player.lastByte === PRIMARY, 2_000, 'primary bytes after the second failover');
  assert.equal(proxy.app.registry.clientCount(s.stream_id), 1);
  const detailed = await api(proxy.base, 'GET', '/stats/detailed');
  assert.equal((detailed.body as { failovers: { manual_player_switches: number } }).failovers.manual_player_switches, 2);
});

test('§5.3 manual failover of a VOD continues the file byte-exact from the backup', async (t) => {
  const movie = randomBytes(4 * 1024 * 1024);
  const origin = await startOrigin(t, {
    '/a/movie.mp4': { kind: 'file', body: movie, trickleMs: 2, chunkBytes: 32 * 1024 },
    '/b/movie.mp4': { kind: 'file', body: movie },
  });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/a/movie.mp4'), [origin.url('/b/movie.mp4')]);
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  await player.waitBytes(200_000);
  proxy.app.streams.failover(s.stream_id);
  assert.deepEqual(await player.done, { complete: true });
  assert.equal(player.md5(), md5(movie));
  assert.equal(origin.hits('/b/movie.mp4').length, 1);
});

test('§5.1 a live stream with one URL just continues after a reset, with no failover event', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live', fill: PRIMARY, fault: { kind: 'reset', afterBytes: 40_000, times: 1 } } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/live.ts'));
  const failovers = collect(proxy, 'failover_triggered');
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  await waitFor(() => origin.hits('/live.ts').length === 2, 5_000, 'the reconnect');
  const after = player.bytes;
  await player.waitBytes(after + 20_000);
  assert.equal(player.res.destroyed, false);
  assert.equal(failovers.length, 0);
  assert.equal(origin.lastRequest('/live.ts').headers.range, undefined, 'a live reconnect asks for no range');
});
