// m3u-editor's whole conversation with the proxy (issue 9, research/m3u-editor.md §3), replayed in its order with its
// exact headers: Accept and Content-Type application/json on every call (GET and DELETE too), X-API-Token, query
// booleans as 1/0, a DELETE with a JSON body. A real origin, a real webhook receiver and a real failover resolver.
// Every field the editor reads is asserted; a field it reads with `??` is asserted present all the same.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPlayer } from '../helpers/player.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { startResolver } from '../helpers/resolver.ts';
import { startProxy } from '../helpers/start-proxy.ts';
import { startReceiver, type Delivery } from '../helpers/webhook-receiver.ts';

type Json = Record<string, unknown>;

const TOKEN = 'editor-token';
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const PLAYLIST = '3b2a7c6e-0d1f-4e55-9a51-2f9b1c1d0e77';
/** What M3uProxyService::createStream sends as metadata for a channel (ids as the editor types them). */
function channelMetadata(channel: number): Json {
  return {
    id: channel,
    channel_id: String(channel),
    type: 'channel',
    playlist_uuid: PLAYLIST,
    original_channel_id: channel,
    original_playlist_uuid: PLAYLIST,
    is_failover: false,
    strict_live_ts: true,
    use_sticky_session: true,
    provider_profile_id: 5,
    playlist_auth_id: '9',
  };
}

/** One editor call: Laravel's Http client with ->acceptJson()->asJson() and the token header, whatever the method. */
async function editor(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path, {
    method,
    headers: { accept: 'application/json', 'content-type': 'application/json', 'x-api-token': TOKEN },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.match(res.headers.get('content-type') ?? '', /application\/json/, `${method} ${path} answers JSON`);
  return { status: res.status, body: JSON.parse(text) as Json };
}

/** The editor checks "any 2xx" and then indexes fields: a 2xx and an object are the minimum for every call. */
async function ok(base: string, method: string, path: string, body?: unknown): Promise<Json> {
  const r = await editor(base, method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

function has(obj: Json, keys: readonly string[], what: string): void {
  for (const k of keys) assert.ok(k in obj, `${what} has ${k}`);
}

const eventsOf = (rx: { accepted(): Delivery[] }, streamId: string): string[] =>
  rx
    .accepted()
    .filter((d) => d.event.stream_id === streamId)
    .map((d) => `${d.event.event_type}${d.event.event_type === 'stream_stopped' ? `:${String(d.event.data['reason'])}` : ''}`);

test("m3u-editor's conversation: create, pool, count, close the in-app player, stop the oldest, resolver failover, webhooks, info", async (t) => {
  const origin = await startOrigin(t, {
    '/live/1.ts': { kind: 'live', fill: 0x11 },
    // Stream 2's provider cuts the first connection after a while and then refuses: the resolver must take over.
    '/live/2.ts': { kind: 'live', fill: 0x22, fault: { kind: 'reset', afterBytes: 188 * 7 * 40 } },
    '/backup/2.ts': { kind: 'live', fill: 0x33 },
    '/spare/2.ts': { kind: 'live', fill: 0x44 },
  });
  const rx = await startReceiver(t);
  const resolver = await startResolver(t);
  const { base } = await startProxy(t, { apiToken: TOKEN, readTimeoutMs: 60_000 });

  // Boot (RegisterM3uProxyWebhook --force, only in resolver mode): list, then register the editor's receiver.
  const before = await ok(base, 'GET', '/webhooks');
  assert.deepEqual(before['webhooks'], []);
  const events = ['client_connected', 'client_disconnected', 'stream_started', 'stream_stopped'];
  const added = await ok(base, 'POST', '/webhooks', { url: rx.url, events, timeout: 5, retry_attempts: 2 });
  assert.equal(added['webhook_url'], rx.url);

  // 1. A viewer tunes channel 1: createStream with its metadata, resolver mode, strict/sticky, silence settings.
  const created = await ok(base, 'POST', '/streams', {
    url: origin.url('/live/1.ts'),
    metadata: channelMetadata(1),
    strict_live_ts: true,
    use_sticky_session: true,
    enable_silence_detection: true,
    silence_threshold_db: -50,
    silence_duration: 3,
    silence_check_interval: 10,
    silence_failover_threshold: 3,
    silence_monitoring_grace_period: 15,
    failover_resolver_url: resolver.url,
    user_agent: 'Editor-UA/1.0',
    headers: { 'X-Playlist': 'p1' },
  });
  const id1 = created['stream_id'] as string;
  assert.match(id1, /^[0-9a-f]{32}$/);
  // The in-app player carries the tab's client id.
  const inApp = await openPlayer(t, `${base}/stream/${id1}?client_id=tab-1`, { 'user-agent': 'Mozilla/5.0 (editor player)' });
  assert.equal(inApp.res.statusCode, 200);
  await inApp.waitBytes(1);
  assert.equal(origin.lastRequest('/live/1.ts').headers['x-playlist'], 'p1', 'the stream headers go upstream');

  // 2. A second viewer of channel 1: the editor's pooling lookup finds the running stream and hands out its id.
  const pool = await ok(base, 'GET', `/streams/by-metadata?field=original_channel_id&value=1&active_only=1`);
  const pooled = (pool['matching_streams'] as Json[])[0] as Json;
  assert.equal(pooled['stream_id'], id1);
  const kodi = await openPlayer(t, `${base}/stream/${id1}?username=alice`, { 'user-agent': 'Kodi/21.0' });
  await kodi.waitBytes(1);

  // 3. Capacity: counts per provider profile, and the playlist's streams with their viewers.
  const counts = await ok(base, 'GET', '/streams/counts-by-metadata?field=provider_profile_id&values=5,6&active_only=1');
  assert.deepEqual(counts, { field: 'provider_profile_id', counts: { '5': 1, '6': 0 } });
  const byPlaylist = await ok(base, 'GET', `/streams/by-metadata?field=playlist_uuid&value=${PLAYLIST}&active_only=1`);
  assert.equal(byPlaylist['total_matching'], 1);
  assert.equal(byPlaylist['total_clients'], 2);
  const match = (byPlaylist['matching_streams'] as Json[])[0] as Json;
  assert.equal(match['stream_id'], id1);
  assert.equal(match['client_count'], 2);
  const meta = match['metadata'] as Json;
  assert.equal(meta['id'], '1');
  assert.equal(meta['original_channel_id'], '1');
  assert.equal(meta['original_playlist_uuid'], PLAYLIST);
  assert.equal(meta['provider_profile_id'], '5');
  assert.equal(meta['transcoding'], undefined, 'never "true": nothing is transcoded here');
  // The stream monitor: GET /streams and GET /clients.
  const list = await ok(base, 'GET', '/streams');
  const s1 = (list['streams'] as Json[]).find((s) => s['stream_id'] === id1) as Json;
  has(s1, ['stream_id', 'original_url', 'current_url', 'stream_type', 'is_active', 'client_count', 'has_failover', 'error_count', 'total_segments_served', 'total_bytes_served', 'created_at'], 'StreamStat');
  has(s1, ['failover_urls', 'failover_resolver_url', 'current_failover_index', 'failover_attempts', 'last_failover_time', 'metadata'], 'StreamStat');
  assert.equal(s1['stream_type'], 'Live Continuous');
  assert.equal(s1['is_active'], true);
  assert.equal(s1['client_count'], 2);
  assert.equal(s1['has_failover'], true, 'a resolver counts as failover');
  assert.equal(s1['failover_resolver_url'], resolver.url);
  assert.equal(s1['strict_live_ts'], true);
  assert.equal(s1['use_sticky_session'], true);
  assert.equal(s1['silence_threshold_db'], -50, 'silence settings are answered back');
  assert.match(String(s1['created_at']), ISO_Z);
  // A viewer counts as active while is_connected or last_access is under 30 s old: last_access moves while it plays.
  let clients: Json[] = [];
  const deadline = performance.now() + 5_000;
  for (;;) {
    clients = (await ok(base, 'GET', '/clients'))['clients'] as Json[];
    const k = clients.find((c) => c['username'] === 'alice');
    if (k && k['last_access'] !== k['created_at']) break;
    assert.ok(performance.now() < deadline, 'a playing viewer\'s last_access is refreshed');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(clients.length, 2);
  for (const c of clients) {
    has(c, ['stream_id', 'created_at', 'last_access', 'ip_address', 'bytes_served', 'username', 'user_agent', 'is_connected'], 'ClientStat');
    assert.equal(c['is_connected'], true);
    assert.equal(c['stream_id'], id1);
  }

  // 4. The in-app player closes (sendBeacon → stop): force=false with its client id, while Kodi watches on.
  const stop = await ok(base, 'DELETE', `/streams/by-metadata?field=channel_id&value=1&force=0&client_id=tab-1`);
  assert.equal(stop['deleted_count'], 0);
  assert.deepEqual(stop['deleted_streams'], []);
  assert.deepEqual(stop['skipped_streams'], [{ stream_id: id1, reason: 'has_active_clients', active_clients: 1 }]);
  assert.equal(typeof stop['message'], 'string');
  assert.deepEqual(await inApp.done, { complete: false }, 'the in-app player was let go');
  const kodiBytes = kodi.bytes;
  await kodi.waitBytes(kodiBytes + 188 * 7 * 10);
  assert.equal(kodi.res.destroyed, false, 'the other viewer keeps playing');

  // 5. Channel 2 on a playlist at its limit: stop the oldest stream of the playlist (not channel 2), then create 2.
  const oldest = await ok(base, 'DELETE', `/streams/oldest-by-metadata?field=playlist_uuid&value=${PLAYLIST}&exclude_channel_id=2`);
  assert.equal(oldest['deleted_count'], 1);
  assert.equal(oldest['deleted_stream'], id1);
  assert.equal(typeof oldest['stream_age_seconds'], 'number');
  assert.equal(typeof oldest['message'], 'string');
  assert.deepEqual(await kodi.done, { complete: false });

  // The editor checks its resolver from Preferences before relying on it.
  const probe = await ok(base, 'POST', '/test-connection', { url: resolver.upUrl });
  assert.deepEqual(probe, { success: true, message: 'Successfully connected', status_code: 200, url_tested: resolver.upUrl });

  const id2 = (await ok(base, 'POST', '/streams', { url: origin.url('/live/2.ts'), metadata: channelMetadata(2), failover_resolver_url: resolver.url }))['stream_id'] as string;
  resolver.setMode({ kind: 'next', url: origin.url('/backup/2.ts') });
  const viewer = await openPlayer(t, `${base}/stream/${id2}`, { 'user-agent': 'TiviMate/4.7' });
  assert.equal(viewer.res.statusCode, 200);
  // The in-flight answer keeps its fault; every later request of the primary is refused.
  origin.set('/live/2.ts', { kind: 'status', status: 503, body: 'busy' });
  await waitFor(() => viewer.lastByte === 0x33, 5_000, 'the viewer continues on the resolver\'s URL');
  assert.equal(viewer.res.destroyed, false);
  const asked = resolver.questions[0];
  assert.ok(asked, 'the resolver was asked');
  assert.equal(asked.current_url, origin.url('/live/2.ts'));
  assert.equal(asked.status_code, 503);
  assert.equal(asked.current_failover_index, 0);
  assert.equal(typeof asked.reason, 'string');
  assert.equal(asked.metadata['channel_id'], '2');
  const after = ((await ok(base, 'GET', `/streams/${id2}`))['stream'] as Json);
  assert.equal(after['current_url'], origin.url('/backup/2.ts'));
  assert.equal(after['failover_attempts'], 1);
  assert.match(String(after['last_failover_time']), ISO_Z);
  assert.equal(after['current_failover_index'], 1);

  // The monitor's "failover" button on a resolver-only stream: the resolver decides, players move without a cut.
  resolver.setMode({ kind: 'next', url: origin.url('/spare/2.ts') });
  const manual = await ok(base, 'POST', `/streams/${id2}/failover`);
  assert.equal(manual['new_url'], origin.url('/spare/2.ts'));
  assert.equal(resolver.questions.at(-1)?.reason, 'manual');
  assert.equal(resolver.questions.at(-1)?.current_url, origin.url('/backup/2.ts'));
  await waitFor(() => viewer.lastByte === 0x44, 5_000, 'the viewer moved to the manual failover URL');
  viewer.leave();

  // 6. Webhooks: each stream's events in order; started and stopped alternate; every one carries the stream id and
  // data.metadata.provider_profile_id (ProfileService::decrementConnections reads it on stream_stopped).
  await rx.until(() => eventsOf(rx, id2).length === 4, 'stream 2 stopped after its viewer left');
  assert.deepEqual(eventsOf(rx, id1), [
    'stream_started',
    'client_connected',
    'client_connected',
    'client_disconnected',
    'client_disconnected',
    'stream_stopped:oldest_stream_deletion',
  ]);
  assert.deepEqual(eventsOf(rx, id2), ['stream_started', 'client_connected', 'client_disconnected', 'stream_stopped:last_client_disconnected']);
  for (const d of rx.accepted()) {
    assert.equal(typeof d.event.stream_id, 'string');
    assert.equal(d.event.data.metadata['provider_profile_id'], '5', `${d.event.event_type} carries the metadata`);
  }
  const listed = await ok(base, 'GET', '/webhooks');
  assert.deepEqual((listed['webhooks'] as Json[]).map((w) => w['url']), [rx.url], 'compared as exact strings');
  await ok(base, 'DELETE', '/webhooks', { webhook_url: rx.url });
  assert.deepEqual((await ok(base, 'GET', '/webhooks'))['webhooks'], []);

  // 7. Preferences "Test connection" (/info) and the status command (/health).
  const info = await ok(base, 'GET', '/info');
  assert.equal(typeof info['version'], 'string');
  assert.deepEqual(info['hardware_acceleration'], { enabled: false, type: null, device: null, ffmpeg_args: [] });
  has(info['redis'] as Json, ['enabled', 'pooling_enabled', 'max_clients_per_stream', 'sharing_strategy'], 'info.redis');
  assert.equal((info['redis'] as Json)['pooling_enabled'], false);
  has(info, ['ffmpeg_version', 'streamlink_version', 'ytdlp_version'], 'info');
  const health = await ok(base, 'GET', '/health');
  assert.equal(health['status'], 'healthy');
  assert.equal(typeof health['version'], 'string');
  assert.equal(health['root_path'], '');
  has(health['stats'] as Json, ['active_streams', 'total_clients'], 'health.stats');
});
