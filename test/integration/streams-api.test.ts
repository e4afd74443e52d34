// SPEC §3: the stream management API over real HTTP.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { test } from 'node:test';
import type { ProxyEvent } from '../../src/core/events.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

type Json = Record<string, unknown>;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

test('§3.1 create answers the documented shape with the md5 id', async (t) => {
  const { base, app } = await startProxy(t);
  const url = 'http://example.com/stream.m3u8';
  const r = await api(base, 'POST', '/streams', { url, metadata: { id: 7 } });
  assert.equal(r.status, 200);
  const id = md5(url);
  assert.deepEqual(r.body, {
    stream_id: id,
    primary_url: url,
    failover_urls: [],
    user_agent: app.config.defaultUserAgent,
    stream_type: 'hls',
    stream_endpoint: `/hls/${id}/playlist.m3u8`,
    playlist_url: `/hls/${id}/playlist.m3u8`,
    direct_url: `/hls/${id}/playlist.m3u8`,
    message: 'Stream created successfully (hls)',
    metadata: { id: '7' },
  });
});

test('§3.1 direct files get /stream endpoints, metadata only when given, ROOT_PATH prefixes them', async (t) => {
  const { base } = await startProxy(t, { rootPath: '/m3u-proxy' });
  const url = 'http://example.com/movie.mkv?token=abc';
  const r = await api(base, 'POST', '/streams', { url, user_agent: 'VLC/3.0.18' });
  const body = r.body as Json;
  const id = md5(url);
  assert.equal(body['stream_type'], 'direct');
  assert.equal(body['stream_endpoint'], `/m3u-proxy/stream/${id}`);
  assert.equal(body['direct_url'], `/m3u-proxy/stream/${id}`);
  assert.equal(body['user_agent'], 'VLC/3.0.18');
  assert.ok(!('metadata' in body));
  // SPEC §2: every route answers without the prefix too (m3u-editor calls the API without it).
  const outside = await api(base.replace('/m3u-proxy', ''), 'GET', `/streams/${id}`);
  assert.equal(outside.status, 200);
  assert.equal(((outside.body as Json)['stream'] as Json)['stream_id'], id);
  // A longer first segment is not the prefix.
  assert.equal((await api(base.replace('/m3u-proxy', '/m3u-proxyx'), 'GET', '/streams')).status, 404);
});

test('§3.1 creating the same URL again keeps the id and updates the fields', async (t) => {
  const { base } = await startProxy(t);
  const url = 'http://example.com/live.ts';
  await api(base, 'POST', '/streams', { url, metadata: { a: 1 } });
  const again = await api(base, 'POST', '/streams', {
    url,
    failover_urls: ['http://backup.example.com/live.ts'],
    user_agent: 'Kodi',
    headers: { Referer: 'http://r/' },
    metadata: { a: 2 },
  });
  assert.equal((again.body as Json)['stream_id'], md5(url));
  const info = await api(base, 'GET', `/streams/${md5(url)}`);
  const stream = (info.body as Json)['stream'] as Json;
  assert.deepEqual(stream['failover_urls'], ['http://backup.example.com/live.ts']);
  assert.equal(stream['user_agent'], 'Kodi');
  assert.deepEqual(stream['metadata'], { a: '2' });
  assert.equal(stream['has_failover'], true);
  const list = await api(base, 'GET', '/streams');
  assert.equal((list.body as Json)['total'], 1);
});

test('§3.1 a header with a null value (an unset playlist header, as the editor sends it) is left out, not refused', async (t) => {
  const proxy = await startProxy(t);
  const url = 'http://example.com/with-headers.ts';
  const r = await api(proxy.base, 'POST', '/streams', { url, headers: { Referer: null, 'X-Forwarded-Proto': 'https' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(proxy.app.registry.getStream(md5(url))?.headers, { 'X-Forwarded-Proto': 'https' });
});

test('§3.1 concurrent creates of one URL make exactly one stream and one stream_started', async (t) => {
  const { base, app } = await startProxy(t);
  const events: ProxyEvent[] = [];
  const off = app.bus.subscribe((e) => events.push(e));
  t.after(off);
  const url = 'http://example.com/concurrent.m3u8';
  const answers = await Promise.all(Array.from({ length: 20 }, () => api(base, 'POST', '/streams', { url })));
  assert.ok(answers.every((a) => a.status === 200));
  assert.equal(app.registry.streamCount(), 1);
  assert.equal(events.filter((e) => e.event_type === 'stream_started').length, 1);
  assert.deepEqual(events[0]?.data.metadata, {});
});

test('§3.1 creating a stream opens no upstream connection', async (t) => {
  let hits = 0;
  const origin = createServer((_req, res) => {
    hits++;
    res.end('x');
  });
  t.after(() => origin.close());
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const address = origin.address();
  assert.ok(address && typeof address === 'object');
  const { base } = await startProxy(t);
  const r = await api(base, 'POST', '/streams', { url: `http://127.0.0.1:${address.port}/a.m3u8` });
  assert.equal(r.status, 200);
  assert.equal(hits, 0);
});

test('§3.1 invalid input: 422 for bad fields, 400 for broken JSON, 413 past 1 MiB, all JSON', async (t) => {
  const { base } = await startProxy(t);
  const cases: Array<[unknown, number]> = [
    [{}, 422],
    [{ url: 'ftp://example.com/a' }, 422],
    [{ url: 'http://e.com/a', failover_urls: ['nope'] }, 422],
    [{ url: 'http://e.com/a', metadata: { nested: { x: 1 } } }, 422],
    [{ url: 'http://e.com/a', headers: { X: 'a\r\nB: c' } }, 422],
    ['{"url": ', 400],
    ['not json', 400],
  ];
  for (const [body, status] of cases) {
    const r = await api(base, 'POST', '/streams', body);
    assert.equal(r.status, status, JSON.stringify(body));
    const err = r.body as Json;
    assert.equal(typeof err['detail'], 'string');
    assert.equal(typeof err['code'], 'string');
  }
  const huge = JSON.stringify({ url: 'http://e.com/a', pad: 'x'.repeat(1024 * 1024) });
  const r = await api(base, 'POST', '/streams', huge);
  assert.equal(r.status, 413);
  assert.equal((r.body as Json)['code'], 'BODY_TOO_LARGE');
});

test('§3.2 get, list and delete; unknown ids are 404 JSON', async (t) => {
  const { base, app } = await startProxy(t);
  const url = 'http://example.com/x.m3u8';
  const id = md5(url);
  await api(base, 'POST', '/streams', { url });
  const one = await api(base, 'GET', `/streams/${id}`);
  assert.equal(one.status, 200);
  const body = one.body as Json;
  assert.equal(body['client_count'], 0);
  assert.deepEqual(body['clients'], []);
  const stream = body['stream'] as Json;
  for (const key of [
    'stream_id', 'original_url', 'current_url', 'user_agent', 'client_count', 'total_bytes_served',
    'total_segments_served', 'error_count', 'is_active', 'has_failover', 'stream_type', 'created_at',
    'last_access', 'metadata', 'failover_urls', 'current_failover_index', 'failover_count',
    'failover_resolver_url', 'failover_attempts', 'last_failover_time', 'upstream_connections', 'strict_live_ts',
    'use_sticky_session', 'share_upstream',
  ]) {
    assert.ok(key in stream, key);
  }
  assert.equal(stream['stream_type'], 'HLS');
  assert.match(String(stream['created_at']), ISO_Z);
  assert.match(String(stream['last_access']), ISO_Z);

  const events: ProxyEvent[] = [];
  t.after(app.bus.subscribe((e) => events.push(e)));
  const del = await api(base, 'DELETE', `/streams/${id}`);
  assert.deepEqual(del.body, { message: `Stream ${id} deleted` });
  assert.deepEqual(events.map((e) => `${e.event_type}:${String(e.data['reason'])}`), ['stream_stopped:manual_deletion']);
  assert.equal(app.registry.getStream(id), undefined);
  for (const [method, path] of [['GET', `/streams/${id}`], ['DELETE', `/streams/${id}`], ['POST', `/streams/${id}/failover`]] as const) {
    const r = await api(base, method, path);
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.equal((r.body as Json)['code'], 'NOT_FOUND');
  }
});

test('§3.2 stream_type reflects VOD and live names', async (t) => {
  const { base } = await startProxy(t);
  await api(base, 'POST', '/streams', { url: 'http://e.com/film.mp4' });
  await api(base, 'POST', '/streams', { url: 'http://e.com/live/channel.ts' });
  const list = (await api(base, 'GET', '/streams')).body as { streams: Json[] };
  const types = Object.fromEntries(list.streams.map((s) => [s['original_url'], s['stream_type']]));
  assert.deepEqual(types, { 'http://e.com/film.mp4': 'VOD', 'http://e.com/live/channel.ts': 'Live Continuous' });
});

test('§3.2 manual failover walks the ring and answers 409 without failover URLs', async (t) => {
  const { base, app } = await startProxy(t);
  const events: ProxyEvent[] = [];
  t.after(app.bus.subscribe((e) => events.push(e)));
  const url = 'http://a.example.com/live.ts';
  const id = md5(url);
  await api(base, 'POST', '/streams', { url, failover_urls: ['http://b.example.com/live.ts', 'http://c.example.com/live.ts'], metadata: { id: 1 } });
  const seen: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await api(base, 'POST', `/streams/${id}/failover`);
    assert.equal(r.status, 200);
    seen.push(r.body);
  }
  const extra = { active_clients: 0, stream_type: 'Live Continuous' };
  assert.deepEqual(seen, [
    { message: 'Failover successful', new_url: 'http://b.example.com/live.ts', failover_index: 1, failover_attempts: 1, ...extra },
    { message: 'Failover successful', new_url: 'http://c.example.com/live.ts', failover_index: 2, failover_attempts: 2, ...extra },
    { message: 'Failover successful', new_url: url, failover_index: 0, failover_attempts: 3, ...extra },
  ]);
  const failovers = events.filter((e) => e.event_type === 'failover_triggered');
  assert.equal(failovers.length, 3);
  assert.deepEqual(failovers[0]?.data.metadata, { id: '1' });
  const stream = ((await api(base, 'GET', `/streams/${id}`)).body as Json)['stream'] as Json;
  assert.equal(stream['failover_count'], 3);
  assert.equal(stream['current_failover_index'], 0);

  const lone = 'http://a.example.com/lone.ts';
  await api(base, 'POST', '/streams', { url: lone });
  const r = await api(base, 'POST', `/streams/${md5(lone)}/failover`);
  assert.equal(r.status, 409);
  assert.equal((r.body as Json)['code'], 'CONFLICT');
});

test('§3.2 by-metadata: list, delete with query or body, exclude_channel_id, oldest', async (t) => {
  const { base, app } = await startProxy(t);
  // Equal creation times resolve to the first created, so "oldest" is well defined without sleeping.
  const ids: string[] = [];
  for (const [i, url] of ['http://e.com/1.ts', 'http://e.com/2.ts', 'http://e.com/3.ts', 'http://e.com/other.ts'].entries()) {
    const metadata = url.includes('other') ? { playlist: 'B', id: i } : { playlist: 'A', id: i };
    const r = await api(base, 'POST', '/streams', { url, metadata });
    ids.push((r.body as Json)['stream_id'] as string);
  }
  const list = await api(base, 'GET', '/streams/by-metadata?field=playlist&value=A&active_only=0');
  const lb = list.body as Json;
  assert.deepEqual(lb['filter'], { field: 'playlist', value: 'A' });
  assert.equal(lb['active_only'], false);
  const byDefault = await api(base, 'GET', '/streams/by-metadata?field=playlist&value=A');
  assert.equal((byDefault.body as Json)['active_only'], true, 'active_only defaults to true, as the reference');
  assert.equal((byDefault.body as Json)['total_matching'], 0);
  assert.equal(lb['total_matching'], 3);
  assert.equal(lb['total_clients'], 0);
  const first = (lb['matching_streams'] as Json[])[0] as Json;
  assert.deepEqual(Object.keys(first).sort(), ['client_count', 'is_active', 'last_access', 'metadata', 'stream_id', 'stream_type', 'url']);
  const active = await api(base, 'GET', '/streams/by-metadata?field=playlist&value=A&active_only=true');
  assert.equal((active.body as Json)['total_matching'], 0);
  const missing = await api(base, 'GET', '/streams/by-metadata?value=A');
  assert.equal(missing.status, 422);

  const oldest = await api(base, 'DELETE', '/streams/oldest-by-metadata', { field: 'playlist', value: 'A' });
  const ob = oldest.body as Json;
  assert.equal(ob['deleted_count'], 1);
  assert.equal(ob['deleted_stream'], ids[0]);
  assert.equal(typeof ob['stream_age_seconds'], 'number');

  // A JSON number for exclude_channel_id matches the stored string "1".
  const bulk = await api(base, 'DELETE', '/streams/by-metadata', { field: 'playlist', value: 'A', exclude_channel_id: 1 });
  const bb = bulk.body as Json;
  assert.equal(bb['deleted_count'], 1);
  assert.deepEqual(bb['deleted_streams'], [ids[2]]);
  assert.deepEqual(bb['skipped_streams'], [{ stream_id: ids[1], reason: 'excluded_by_channel_id' }]);
  assert.ok(app.registry.getStream(ids[1] ?? ''), 'the excluded channel stays');

  const byQuery = await api(base, 'DELETE', '/streams/by-metadata?field=playlist&value=B');
  assert.deepEqual((byQuery.body as Json)['deleted_streams'], [ids[3]]);
  const none = await api(base, 'DELETE', '/streams/oldest-by-metadata?field=playlist&value=Z');
  assert.deepEqual(none.body, { deleted_count: 0, deleted_stream: null, stream_age_seconds: 0, message: 'No stream with playlist=Z' });
});
