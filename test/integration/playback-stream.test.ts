// GET/HEAD /stream/{id} against a real origin (SPEC §5.1): byte-exact VOD, Range, HEAD, accounting, player departure.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { leaveWhileOpening, md5, openPlayer } from '../helpers/player.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

interface Created {
  stream_id: string;
  stream_endpoint: string;
}

async function createStream(base: string, url: string, extra: Record<string, unknown> = {}): Promise<Created> {
  const r = await api(base, 'POST', '/streams', { url, ...extra });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as Created;
}

test('§5.1 VOD: the player gets the file byte for byte, with the origin headers mirrored', async (t) => {
  const movie = randomBytes(3 * 1024 * 1024 + 11);
  const origin = await startOrigin(t, { '/movie.mp4': { kind: 'file', body: movie, etag: '"v1"', headers: { 'last-modified': 'Tue, 01 Jan 2030 00:00:00 GMT' } } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/movie.mp4'));
  assert.equal(s.stream_endpoint, `/stream/${s.stream_id}`);

  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  assert.equal(player.res.statusCode, 200);
  // The origin says octet-stream: the .mp4 extension decides.
  assert.equal(player.res.headers['content-type'], 'video/mp4');
  assert.equal(player.res.headers['content-length'], String(movie.length));
  assert.equal(player.res.headers['accept-ranges'], 'bytes');
  assert.equal(player.res.headers['etag'], '"v1"');
  assert.equal(player.res.headers['last-modified'], 'Tue, 01 Jan 2030 00:00:00 GMT');
  assert.deepEqual(await player.done, { complete: true });
  assert.equal(player.md5(), md5(movie));

  // Byte counts are exact and the session is gone once the player finished.
  await waitFor(() => proxy.app.registry.clientCount(s.stream_id) === 0, 2_000, 'session end');
  const stream = proxy.app.registry.getStream(s.stream_id);
  assert.equal(stream?.bytesServed, movie.length);
  assert.equal(stream?.observedType, 'VOD');
  assert.equal(proxy.app.registry.totalBytesServed, movie.length);
  const stat = await api(proxy.base, 'GET', `/streams/${s.stream_id}`);
  assert.equal((stat.body as { stream: { total_bytes_served: number; stream_type: string } }).stream.total_bytes_served, movie.length);
  assert.equal((stat.body as { stream: { stream_type: string } }).stream.stream_type, 'VOD');
});

test('§5.1 Range: 206 with Content-Range, the exact slice, the Range forwarded upstream', async (t) => {
  const movie = randomBytes(256 * 1024);
  const origin = await startOrigin(t, { '/movie.mkv': { kind: 'file', body: movie, contentType: 'video/x-matroska' } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/movie.mkv'));

  const player = await openPlayer(t, proxy.base + s.stream_endpoint, { range: 'bytes=1000-50999' });
  assert.equal(player.res.statusCode, 206);
  assert.equal(player.res.headers['content-range'], `bytes 1000-50999/${movie.length}`);
  assert.equal(player.res.headers['content-length'], '50000');
  assert.equal(player.res.headers['content-type'], 'video/x-matroska');
  await player.done;
  assert.ok(player.body().equals(movie.subarray(1000, 51000)));
  assert.equal(origin.lastRequest('/movie.mkv').headers.range, 'bytes=1000-50999');

  const tail = await openPlayer(t, proxy.base + s.stream_endpoint, { range: 'bytes=-100' });
  assert.equal(tail.res.statusCode, 206);
  await tail.done;
  assert.ok(tail.body().equals(movie.subarray(movie.length - 100)));

  const beyond = await openPlayer(t, proxy.base + s.stream_endpoint, { range: `bytes=${movie.length + 5}-` });
  assert.equal(beyond.res.statusCode, 416, 'an unsatisfiable range is the origin answer, not a proxy failure');
  await beyond.done;
});

test('§5.1 upstream request headers: stream UA, custom headers, Accept, no hop-by-hop', async (t) => {
  const origin = await startOrigin(t, { '/a.ts': { kind: 'file', body: Buffer.alloc(1000, 1) } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/a.ts'), { user_agent: 'TestUA/1', headers: { Referer: 'http://ref.example/', 'X-Custom': 'yes', Connection: 'x-secret', 'Keep-Alive': 'timeout=1' } });
  const player = await openPlayer(t, proxy.base + s.stream_endpoint, { 'if-none-match': '"nope"', 'x-player-private': '1' });
  await player.done;
  const h = origin.lastRequest('/a.ts').headers;
  assert.equal(h['user-agent'], 'TestUA/1');
  assert.equal(h['referer'], 'http://ref.example/');
  assert.equal(h['x-custom'], 'yes');
  assert.equal(h['accept'], '*/*');
  assert.equal(h['if-none-match'], '"nope"');
  assert.equal(h['x-player-private'], undefined, 'only Range and conditionals pass from the player');
  assert.equal(h['keep-alive'], undefined);
  assert.notEqual(h['connection'], 'x-secret');
});

test('§5.1 conditional request: the origin 304 is mirrored without a body', async (t) => {
  const origin = await startOrigin(t, { '/movie.mp4': { kind: 'file', body: Buffer.alloc(5000, 7), etag: '"e1"' } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/movie.mp4'));
  const player = await openPlayer(t, proxy.base + s.stream_endpoint, { 'if-none-match': '"e1"' });
  assert.equal(player.res.statusCode, 304);
  assert.equal(player.res.headers['etag'], '"e1"');
  await player.done;
  assert.equal(player.bytes, 0);
});

test('§5.1 HEAD: same status and headers, no body, no client registered', async (t) => {
  const movie = randomBytes(100_000);
  const origin = await startOrigin(t, { '/movie.mp4': { kind: 'file', body: movie, contentType: 'video/mp4' } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/movie.mp4'));
  let connected = 0;
  proxy.app.bus.subscribe((e) => {
    if (e.event_type === 'client_connected') connected++;
  });
  const head = await fetch(proxy.base + s.stream_endpoint, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(movie.length));
  assert.equal(head.headers.get('content-type'), 'video/mp4');
  assert.equal(head.headers.get('accept-ranges'), 'bytes');
  assert.equal((await head.arrayBuffer()).byteLength, 0);
  const ranged = await fetch(proxy.base + s.stream_endpoint, { method: 'HEAD', headers: { range: 'bytes=10-19' } });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers.get('content-range'), `bytes 10-19/${movie.length}`);
  assert.equal(connected, 0);
  assert.equal(proxy.app.registry.clientCount(s.stream_id), 0);
  assert.equal(proxy.app.registry.totalBytesServed, 0);
});

test('§5.1 player leaves: the origin sees its socket close, the session ends with exact accounting', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live', fill: 0x47 } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/live.ts'));
  const events: string[] = [];
  proxy.app.bus.subscribe((e) => events.push(e.event_type));

  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  assert.equal(player.res.statusCode, 200);
  assert.equal(player.res.headers['content-type'], 'video/mp2t');
  await player.waitBytes(50_000);
  assert.equal(proxy.app.registry.clientCount(s.stream_id), 1);
  assert.equal(proxy.app.connections.count(), 1);
  const upstreamRequest = origin.lastRequest('/live.ts');
  player.leave();

  await Promise.race([
    upstreamRequest.socketClosed,
    new Promise((_, reject) => setTimeout(() => reject(new Error('origin socket still open after 1 s')), 1_000).unref()),
  ]);
  await waitFor(() => proxy.app.registry.clientCount(s.stream_id) === 0, 1_000, 'session end');
  assert.equal(proxy.app.connections.count(), 0);
  assert.equal(proxy.app.registry.getStream(s.stream_id)?.observedType, 'Live Continuous');
  assert.deepEqual(events.filter((e) => e.startsWith('client_')), ['client_connected', 'client_disconnected']);
  // The proxy counts what it handed to the player's socket: never less than the player got.
  assert.ok((proxy.app.registry.getStream(s.stream_id)?.bytesServed ?? 0) >= player.bytes);
});

test('§3.2 DELETE /streams/{id} ends connected players and closes their upstream sockets at once', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live' } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, origin.url('/live.ts'));
  const a = await openPlayer(t, proxy.base + s.stream_endpoint);
  const b = await openPlayer(t, proxy.base + s.stream_endpoint + '?client_id=second');
  await a.waitBytes(1);
  await b.waitBytes(1);
  const disconnected: string[] = [];
  proxy.app.bus.subscribe((e) => {
    if (e.event_type === 'client_disconnected') disconnected.push(String(e.data['client_id']));
  });

  const del = await api(proxy.base, 'DELETE', `/streams/${s.stream_id}`);
  assert.equal(del.status, 200);
  assert.deepEqual(await a.done, { complete: false });
  assert.deepEqual(await b.done, { complete: false });
  for (const r of origin.hits('/live.ts')) await r.socketClosed;
  assert.equal(disconnected.length, 2, 'one client_disconnected per player, not twice');
  assert.equal(proxy.app.connections.count(), 0);
  assert.equal(proxy.app.registry.clientCount(), 0);
});

test('§5.1 backpressure: a player that does not read holds the origin back', async (t) => {
  const movie = randomBytes(32 * 1024 * 1024);
  const origin = await startOrigin(t, { '/big.mp4': { kind: 'file', body: movie } });
  const proxy = await startProxy(t, { readTimeoutMs: 60_000 });
  const s = await createStream(proxy.base, origin.url('/big.mp4'));
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  player.res.pause();
  // Give the pipe every chance to overrun: wait until the origin stops making progress.
  let last = -1;
  await waitFor(() => {
    const sent = origin.lastRequest('/big.mp4').bytesSent;
    const settled = sent === last;
    last = sent;
    return settled;
  }, 10_000, 'origin to stall on backpressure');
  // Socket buffers on both sides hold a few MiB at most; the proxy holds only a few chunks.
  assert.ok(last < 16 * 1024 * 1024, `origin sent ${last} bytes to a player that reads nothing`);
  player.res.resume();
  await player.done;
  assert.equal(player.md5(), md5(movie));
});

test('§5.4 /stream/{id}?url= needs a valid API token and an http(s) URL', async (t) => {
  const origin = await startOrigin(t, { '/other.ts': { kind: 'file', body: Buffer.alloc(100, 3) }, '/a.ts': { kind: 'file', body: Buffer.alloc(10, 1) } });
  const open = await startProxy(t);
  const s1 = await createStream(open.base, origin.url('/a.ts'));
  const refused = await api(open.base, 'GET', `/stream/${s1.stream_id}?url=${encodeURIComponent(origin.url('/other.ts'))}`);
  assert.equal(refused.status, 403, 'no API_TOKEN configured: refused');
  assert.equal((refused.body as { code: string }).code, 'FORBIDDEN_URL');

  const locked = await startProxy(t, { apiToken: 'sekrit' });
  const s2 = await createStream(locked.base, origin.url('/a.ts'), {}).catch(() => undefined);
  assert.equal(s2, undefined, 'creating needs the token');
  const created = await api(locked.base, 'POST', '/streams', { url: origin.url('/a.ts') }, { 'x-api-token': 'sekrit' });
  const id = (created.body as Created).stream_id;
  const target = encodeURIComponent(origin.url('/other.ts'));
  assert.equal((await api(locked.base, 'GET', `/stream/${id}?url=${target}`)).status, 403);
  assert.equal((await api(locked.base, 'GET', `/stream/${id}?url=${target}&api_token=wrong`)).status, 403);
  assert.equal((await api(locked.base, 'GET', `/stream/${id}?url=${encodeURIComponent('file:///etc/passwd')}&api_token=sekrit`)).status, 403);
  const ok = await api(locked.base, 'GET', `/stream/${id}?url=${target}&api_token=sekrit`);
  assert.equal(ok.status, 200);
  assert.equal(String(ok.body).length, 100);
  // Without ?url= the player needs no token.
  assert.equal((await api(locked.base, 'GET', `/stream/${id}`)).status, 200);
});

test('§5.1 unknown stream id: 404 JSON', async (t) => {
  const proxy = await startProxy(t);
  const r = await api(proxy.base, 'GET', '/stream/0123456789abcdef0123456789abcdef');
  assert.equal(r.status, 404);
  assert.equal((r.body as { code: string }).code, 'NOT_FOUND');
});

test('§7 /stats/detailed and /stats/performance: upstream sockets per host, live connections, throughput', async (t) => {
  const movie = randomBytes(200_000);
  const origin = await startOrigin(t, { '/movie.mp4': { kind: 'file', body: movie }, '/live.ts': { kind: 'live' } });
  const proxy = await startProxy(t);
  const host = `127.0.0.1:${origin.port}`;
  type Detailed = {
    upstream_sockets: { host: string; open: number; free: number; in_use: number }[];
    performance: { live_connections: number; bytes_per_second: number; total_bytes_served: number };
    errors_by_kind: Record<string, number>;
  };

  const vod = await createStream(proxy.base, origin.url('/movie.mp4'));
  const done = await openPlayer(t, proxy.base + vod.stream_endpoint);
  await done.done;
  // A body read to its end returns its socket to the keep-alive pool.
  await waitFor(() => proxy.app.connections.count() === 0, 1_000, 'session end');
  let d = (await api(proxy.base, 'GET', '/stats/detailed')).body as Detailed;
  assert.deepEqual(d.upstream_sockets.find((s) => s.host === host), { host, open: 1, free: 1, in_use: 0 });

  const live = await createStream(proxy.base, origin.url('/live.ts'));
  const player = await openPlayer(t, proxy.base + live.stream_endpoint);
  await player.waitBytes(10_000);
  d = (await api(proxy.base, 'GET', '/stats/detailed')).body as Detailed;
  assert.equal(d.upstream_sockets.find((s) => s.host === host)?.in_use, 1);
  assert.equal(d.performance.live_connections, 1);
  assert.ok(d.performance.total_bytes_served >= movie.length);
  assert.deepEqual(d.errors_by_kind, {});

  const perf = (await api(proxy.base, 'GET', '/stats/performance')).body as { bytes_per_second: number; live_connections: number };
  assert.equal(typeof perf.bytes_per_second, 'number');
  assert.ok(perf.bytes_per_second >= 0);
  const metrics = await (await fetch(proxy.base + '/metrics')).text();
  assert.match(metrics, new RegExp(`m3u_proxy_upstream_connections_open\\{host="${host.replace(/\./g, '\\.')}"\\} \\d`));
});

test('§5.4 a playlist answered on /stream/{id} is redirected to the HLS route, never passed through with its URLs', async (t) => {
  const body = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhttp://user:secret@127.0.0.1:9/seg.ts\n';
  const origin = await startOrigin(t, {
    '/chan': { kind: 'file', body: Buffer.from(body), contentType: 'application/x-mpegURL' },
    '/seg.ts': { kind: 'file', body: Buffer.alloc(188, 0x47), contentType: 'video/mp2t' },
  });
  const proxy = await startProxy(t, { rootPath: '/tv', apiToken: 'tok' });
  const r = await api(proxy.base, 'POST', '/streams', { url: origin.url('/chan') }, { 'x-api-token': 'tok' });
  const s = r.body as Created;
  const answer = await fetch(`${proxy.base}/stream/${s.stream_id}?client_id=abc&username=al&api_token=tok`, { redirect: 'manual' });
  assert.equal(answer.status, 302);
  // Relative (SPEC §2): resolved against /tv/stream/{id} it is /tv/hls/{id}/playlist.m3u8, whatever prefix a proxy strips.
  assert.equal(answer.headers.get('location'), `../hls/${s.stream_id}/playlist.m3u8?client_id=abc&username=al`);
  assert.doesNotMatch(await answer.text(), /secret|127\.0\.0\.1/);
  assert.equal(proxy.app.registry.clientCount(s.stream_id), 0, 'no client session for a redirect');
  // A player that follows it gets the playlist rewritten, with no provider URL or credential left.
  const followed = await fetch(`${proxy.base}/stream/${s.stream_id}`);
  assert.equal(followed.status, 200);
  assert.equal(followed.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  const text = await followed.text();
  assert.match(text, /^s\/[A-Za-z0-9_-]+\.ts$/m);
  assert.doesNotMatch(text, /secret|127\.0\.0\.1/);
});

test('§2 §5.4 the /stream → HLS redirect is absolute on PUBLIC_URL; the route answers with and without ROOT_PATH', async (t) => {
  const body = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg.ts\n';
  const origin = await startOrigin(t, { '/chan': { kind: 'file', body: Buffer.from(body), contentType: 'application/x-mpegURL' } });
  const proxy = await startProxy(t, { rootPath: '/m3u-proxy', publicUrl: 'https://tv.example.com/m3u-proxy' });
  const s = (await api(proxy.base, 'POST', '/streams', { url: origin.url('/chan') })).body as Created;
  for (const base of [proxy.base, `http://127.0.0.1:${proxy.port}`]) {
    const answer = await fetch(`${base}/stream/${s.stream_id}`, { redirect: 'manual' });
    await answer.arrayBuffer();
    assert.equal(answer.status, 302, base);
    assert.equal(answer.headers.get('location'), `https://tv.example.com/m3u-proxy/hls/${s.stream_id}/playlist.m3u8`);
  }
});

test('issue 24.8: a player that leaves before the origin answered stops the opening at once', async (t) => {
  const origin = await startOrigin(t, {
    // Takes the request and never answers: only the player's leaving can end the wait in time.
    '/silent': { kind: 'handler', handle: () => undefined },
  });
  const proxy = await startProxy(t, { connectTimeoutMs: 60_000 });
  const id = ((await api(proxy.base, 'POST', '/streams', { url: origin.url('/silent') })).body as { stream_id: string }).stream_id;
  await leaveWhileOpening(`${proxy.base}/stream/${id}`, origin);
  const info = (await api(proxy.base, 'GET', `/streams/${id}`)).body as { client_count?: number; clients?: unknown[] };
  assert.equal(info.clients?.length ?? info.client_count ?? 0, 0, 'no client record is left behind');
});

test('a provider by host name plays through the DNS cache, and with DNS_CACHE_TTL=0 as well, every play on a new socket', async (t) => {
  const movie = randomBytes(200 * 1024 + 3);
  // Connection: close makes every play open a new upstream socket, so each one goes through the lookup.
  const origin = await startOrigin(t, { '/movie.mp4': { kind: 'file', body: movie, headers: { connection: 'close' } } });
  const byName = origin.url('/movie.mp4').replace('127.0.0.1', 'localhost');
  assert.match(byName, /^http:\/\/localhost:\d+\//);
  for (const dnsCacheTtlMs of [60_000, 0]) {
    const proxy = await startProxy(t, { dnsCacheTtlMs });
    const s = await createStream(proxy.base, byName);
    for (let i = 0; i < 3; i++) {
      const player = await openPlayer(t, proxy.base + s.stream_endpoint);
      assert.equal(player.res.statusCode, 200, `TTL ${dnsCacheTtlMs}, play ${i + 1}`);
      assert.deepEqual(await player.done, { complete: true });
      assert.equal(player.md5(), md5(movie));
    }
  }
});

test('a provider whose name does not resolve: 502 JSON each time, with the DNS cache on, and the proxy plays on', async (t) => {
  // `.invalid` never resolves (RFC 6761); Node's lookup then calls back with an error and no address list.
  const proxy = await startProxy(t, { dnsCacheTtlMs: 60_000, maxRetries: 0 });
  const s = await createStream(proxy.base, 'http://no-such-provider.invalid/live.ts');
  for (let i = 0; i < 2; i++) {
    const r = await api(proxy.base, 'GET', s.stream_endpoint);
    assert.equal(r.status, 502, `play ${i + 1}`);
    assert.equal((r.body as { code?: unknown }).code, 'UPSTREAM_FAILED');
  }
  assert.equal((await api(proxy.base, 'GET', '/health')).status, 200);
});
