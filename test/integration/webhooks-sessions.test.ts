// Webhook events of whole player sessions (SPEC §3.2, §5.3, §6, §8), driven over real HTTP only: a real origin, a
// real webhook receiver and players that follow the URLs the proxy hands out, all on 127.0.0.1:0.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { createApp, type App } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import type { ProxyEvent } from '../../src/core/events.ts';
import { silentLogger } from '../../src/log.ts';
import { get, m3u8, matchRewritten, playlistRef, segmentRef, type RawResponse } from '../helpers/hls.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, testConfig } from '../helpers/start-proxy.ts';
import { startReceiver, verifySignature, type Receiver } from '../helpers/webhook-receiver.ts';

const SECRET = 'whsec-sessions';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const METADATA = { id: 7, playlist: 'sports' };
/** SPEC §3.1: metadata values are stored, and so sent, as strings. */
const STORED_METADATA = { id: '7', playlist: 'sports' };
const PLAYER_UA = 'VLC/3.0.20 LibVLC/3.0.20';

interface Harness {
  app: App;
  base: string;
  /** Every event the proxy emitted, in order, seen on its bus (what the webhook deliveries must match). */
  emitted: ProxyEvent[];
  /** The registry's clock: moves only when a test advances it. */
  advance(ms: number): void;
}

/**
 * The real app with a manual registry clock; the sweeper's real interval runs every few ms, so advancing the clock is
 * all it takes for the next tick to expire what is idle. Closed in t.after.
 */
async function start(t: TestContext, overrides: Partial<Config> = {}): Promise<Harness> {
  let clock = Date.now();
  const app = createApp(testConfig({ webhookSecret: SECRET, cleanupIntervalMs: 10, ...overrides }), {
    logger: silentLogger,
    now: () => clock,
    webhookRetryBaseMs: 1,
  });
  t.after(() => app.close(100));
  const emitted: ProxyEvent[] = [];
  t.after(app.bus.subscribe((e) => void emitted.push(e)));
  const port = await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${port}`, emitted, advance: (ms) => (clock += ms) };
}

async function post(base: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await api(base, 'POST', path, body);
  assert.equal(r.status, 200, `POST ${path}: ${JSON.stringify(r.body)}`);
  return r.body as Record<string, unknown>;
}

function eventOf(rx: Receiver, type: string, n = 0): ProxyEvent {
  const d = rx.ofType(type)[n];
  assert.ok(d, `${type} #${n + 1} was delivered`);
  return d.event;
}

/**
 * Waits until the proxy is at rest and every emitted event reached the receiver, then checks what holds for every
 * delivery: one 2xx delivery per emitted event, in emission order (one webhook is one FIFO lane), the envelope of
 * SPEC §6, the stream's metadata, and a valid signature. Returns the event types in order.
 */
async function settledDeliveries(h: Harness, rx: Receiver, streamId: string): Promise<string[]> {
  await waitFor(() => h.app.connections.count() === 0, 5_000, 'no open connection left');
  await rx.until(() => rx.accepted().length >= h.emitted.length, 'every emitted event delivered');
  assert.deepEqual(rx.accepted().map((d) => d.event.event_id), h.emitted.map((e) => e.event_id), 'deliveries are exactly the emitted events, in order');
  assert.equal(rx.deliveries.length, rx.accepted().length, 'no delivery failed or was retried');
  for (const d of rx.deliveries) {
    const e = d.event;
    const what = `${e.event_type} ${e.event_id}`;
    assert.match(e.event_id, UUID, what);
    assert.equal(e.stream_id, streamId, what);
    assert.match(e.timestamp, ISO_Z, what);
    assert.deepEqual(e.data.metadata, STORED_METADATA, what);
    assert.equal(d.headers['x-m3u-proxy-event'], e.event_type, what);
    assert.ok(verifySignature(SECRET, d.raw, d.headers['x-m3u-proxy-signature'] as string | undefined), `signature of ${what}`);
  }
  assert.equal(new Set(rx.deliveries.map((d) => d.event.event_id)).size, rx.deliveries.length, 'event ids are unique');
  return rx.deliveries.map((d) => d.event.event_type);
}

const byteFill = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

test('§6 a full HLS session over HTTP: events once per transition, with payloads', async (t) => {
  // Two copies of one channel: a primary that will go down and a backup with its own variant and segments.
  const masterA = m3u8`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n${playlistRef('low/index.m3u8')}\n`;
  const mediaA = m3u8`#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:4.0,\n${segmentRef('seg0.ts')}\n#EXTINF:4.0,\n${segmentRef('seg1.ts')}\n#EXTINF:4.0,\n${segmentRef('seg2.ts')}\n`;
  const masterB = m3u8`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n${playlistRef('backup-low.m3u8')}\n`;
  const mediaB = m3u8`#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:4.0,\n${segmentRef('b3.ts')}\n#EXTINF:4.0,\n${segmentRef('b4.ts')}\n`;
  const playlist = (tpl: { body: string }) => ({ kind: 'file' as const, body: Buffer.from(tpl.body), contentType: 'application/vnd.apple.mpegurl' });
  const segment = (n: number, fill: number) => ({ kind: 'file' as const, body: byteFill(n, fill), contentType: 'video/mp2t' });
  const origin = await startOrigin(t, {
    '/a/master.m3u8': playlist(masterA),
    '/a/low/index.m3u8': playlist(mediaA),
    '/a/low/seg0.ts': segment(1_128, 0x0a),
    '/a/low/seg1.ts': segment(2_256, 0x1a),
    '/a/low/seg2.ts': segment(3_384, 0x2a),
    '/b/master.m3u8': playlist(masterB),
    '/b/backup-low.m3u8': playlist(mediaB),
    '/b/b3.ts': segment(4_512, 0x3b),
    '/b/b4.ts': segment(5_640, 0x4b),
  });
  const rx = await startReceiver(t);
  const h = await start(t);
  await post(h.base, '/webhooks', { url: rx.url });

  const created = await post(h.base, '/streams', { url: origin.url('/a/master.m3u8'), failover_urls: [origin.url('/b/master.m3u8')], metadata: METADATA });
  const id = created['stream_id'] as string;
  assert.equal(created['stream_type'], 'hls');
  const clientId = 'client_' + createHash('md5').update(`127.0.0.1-${PLAYER_UA}-${id}`).digest('hex').slice(0, 16);

  // The player: every answer it got, kept whole, so the proxy's byte and segment counts can be checked against it.
  let received = 0;
  let segments = 0;
  const fetchAs = async (uri: string, kind: 'playlist' | 'segment'): Promise<RawResponse> => {
    const r = await get(h.base + uri, { 'user-agent': PLAYER_UA });
    assert.equal(r.status, 200, `${kind} ${uri}: ${r.text.slice(0, 200)}`);
    received += r.body.length;
    if (kind === 'segment') segments += 1;
    return r;
  };

  // Master, variant, the segments it lists, and a reload of the variant: one client throughout.
  const master = await fetchAs(`/hls/${id}/playlist.m3u8`, 'playlist');
  assert.equal(master.headers['x-client-id'], clientId);
  const [variantA] = matchRewritten(master.text, masterA, '', id);
  const media = await fetchAs(variantA ?? '', 'playlist');
  for (const uri of matchRewritten(media.text, mediaA, '', id)) await fetchAs(uri, 'segment');
  await fetchAs(variantA ?? '', 'playlist');
  await rx.until(() => rx.ofType('client_connected').length === 1, 'client_connected');

  // The primary goes down. The player reloads only its variant, as players do: the proxy finds the same variant (same
  // position) in the backup's master and serves it at the player's unchanged URL. One failover, no error.
  origin.set('/a/master.m3u8', { kind: 'status', status: 500, body: 'down' });
  origin.set('/a/low/index.m3u8', { kind: 'status', status: 500, body: 'down' });
  const mediaAfter = await fetchAs(variantA ?? '', 'playlist');
  assert.equal(origin.hits('/b/master.m3u8').length, 1, 'the backup master was read to find the variant');
  for (const uri of matchRewritten(mediaAfter.text, mediaB, '', id)) await fetchAs(uri, 'segment');
  // Later reloads of that URL go straight to the backup's variant.
  const variantTries = origin.hits('/a/low/index.m3u8').length;
  await fetchAs(variantA ?? '', 'playlist');
  assert.equal(origin.hits('/a/low/index.m3u8').length, variantTries, 'the failed variant is not asked again');
  // The backup is now current: a master fetch goes straight to it, with no second failover.
  const primaryTries = origin.hits('/a/master.m3u8').length;
  const masterAfter = await fetchAs(`/hls/${id}/playlist.m3u8`, 'playlist');
  assert.equal(matchRewritten(masterAfter.text, masterB, '', id).length, 1);
  assert.equal(origin.hits('/a/master.m3u8').length, primaryTries, 'the failed primary is not asked again');
  await rx.until(() => rx.ofType('failover_triggered').length === 1, 'failover_triggered');
  assert.equal(segments, 5);

  // The player goes quiet: once CLIENT_TIMEOUT passes on the registry clock, the sweeper's next tick ends it.
  h.advance(h.app.config.clientTimeoutMs);
  await rx.until(() => rx.ofType('client_disconnected').length === 1, 'client_disconnected by the sweeper');
  assert.equal(h.app.registry.getStream(id)?.id, id, 'the stream itself is not idle long enough to be swept');
  const deleted = await api(h.base, 'DELETE', `/streams/${id}`);
  assert.equal(deleted.status, 200);
  assert.deepEqual(deleted.body, { message: `Stream ${id} deleted` });
  await rx.until(() => rx.ofType('stream_stopped').length === 1, 'stream_stopped');

  assert.deepEqual(await settledDeliveries(h, rx, id), ['stream_started', 'client_connected', 'failover_triggered', 'client_disconnected', 'stream_stopped']);

  const started = eventOf(rx, 'stream_started').data;
  assert.equal(started['primary_url'], origin.url('/a/master.m3u8'));
  assert.deepEqual(started['failover_urls'], [origin.url('/b/master.m3u8')]);
  const connected = eventOf(rx, 'client_connected').data;
  assert.equal(connected['client_id'], clientId);
  assert.equal(connected['ip_address'], '127.0.0.1');
  assert.equal(connected['user_agent'], PLAYER_UA);
  const failover = eventOf(rx, 'failover_triggered').data;
  assert.equal(failover['old_url'], origin.url('/a/master.m3u8'));
  assert.equal(failover['new_url'], origin.url('/b/master.m3u8'));
  assert.equal(failover['failover_index'], 1);
  assert.equal(typeof failover['reason'], 'string');
  assert.notEqual(failover['reason'], 'manual');
  assert.equal(failover['client_id'], clientId);
  const left = eventOf(rx, 'client_disconnected').data;
  assert.equal(left['client_id'], clientId);
  assert.equal(left['reason'], 'timeout');
  // Exact counts: every playlist and segment byte the player was handed.
  assert.equal(left['bytes_served'], received);
  assert.equal(left['segments_served'], segments);
  assert.equal(left['duration_seconds'], h.app.config.clientTimeoutMs / 1000);
  // The last viewer timing out stopped the stream; the DELETE of a stopped stream sends no second stream_stopped.
  const stopped = eventOf(rx, 'stream_stopped').data;
  assert.equal(stopped['reason'], 'last_client_disconnected');
  assert.equal(stopped['total_bytes_served'], received);
});

test('§6 a full continuous session over HTTP: connect, play, failover, disconnect, delete', async (t) => {
  // Each origin sends a known number of bytes, then holds the connection open and silent: a live source that the
  // players can read to the last byte, so "bytes served" and "bytes received" are comparable exactly.
  const PRIMARY_BYTES = 188 * 7 * 5;
  const BACKUP_BYTES = 188 * 7 * 3;
  const origin = await startOrigin(t, {
    '/live.ts': { kind: 'live', fill: 0x11, fault: { kind: 'stall', afterBytes: PRIMARY_BYTES } },
    '/backup.ts': { kind: 'live', fill: 0x22, fault: { kind: 'stall', afterBytes: BACKUP_BYTES } },
  });
  const rx = await startReceiver(t);
  // A read timeout far beyond the test: the silent origins must not look stalled and trigger a failover of their own.
  const h = await start(t, { readTimeoutMs: 600_000 });
  await post(h.base, '/webhooks', { url: rx.url });
  const created = await post(h.base, '/streams', { url: origin.url('/live.ts'), failover_urls: [origin.url('/backup.ts')], metadata: METADATA });
  const id = created['stream_id'] as string;
  assert.equal(created['stream_type'], 'direct');

  // Connect and play from the primary.
  const player = await openPlayer(t, `${h.base}/stream/${id}?client_id=viewer-1`, { 'user-agent': PLAYER_UA, 'x-username': 'alice' });
  assert.equal(player.res.statusCode, 200);
  await player.waitBytes(PRIMARY_BYTES);
  assert.equal(player.lastByte, 0x11);
  await rx.until(() => rx.ofType('client_connected').length === 1, 'client_connected');

  // Manual failover: the same player connection carries on with the backup's bytes; the primary socket is closed.
  const failover = await post(h.base, `/streams/${id}/failover`);
  assert.deepEqual(failover, { message: 'Failover successful', new_url: origin.url('/backup.ts'), failover_index: 1, failover_attempts: 1, active_clients: 1, stream_type: 'Live Continuous' });
  await player.waitBytes(PRIMARY_BYTES + BACKUP_BYTES);
  assert.equal(player.bytes, PRIMARY_BYTES + BACKUP_BYTES);
  assert.equal(player.lastByte, 0x22);
  assert.equal(player.res.destroyed, false, 'the player connection stayed open through the failover');
  await waitFor(() => origin.lastRequest('/live.ts').isSocketClosed(), 2_000, 'primary upstream socket closed');
  await rx.until(() => rx.ofType('failover_triggered').length === 1, 'failover_triggered');

  // The player leaves.
  player.leave();
  await rx.until(() => rx.ofType('client_disconnected').length === 1, 'client_disconnected on close');

  // A second player (on the backup, now current), then DELETE while it plays: it is cut, then the stream stops.
  const second = await openPlayer(t, `${h.base}/stream/${id}?client_id=viewer-2`, { 'user-agent': PLAYER_UA });
  await second.waitBytes(BACKUP_BYTES);
  assert.equal(second.lastByte, 0x22);
  await rx.until(() => rx.ofType('client_connected').length === 2, 'second client_connected');
  const deleted = await api(h.base, 'DELETE', `/streams/${id}`);
  assert.equal(deleted.status, 200);
  assert.deepEqual(deleted.body, { message: `Stream ${id} deleted` });
  assert.deepEqual(await second.done, { complete: false });
  await waitFor(() => origin.lastRequest('/backup.ts').isSocketClosed(), 2_000, 'backup upstream socket closed on delete');
  await rx.until(() => rx.ofType('stream_stopped').length === 2, 'stream_stopped');

  // The first viewer leaving stopped the stream; the second one started it again (SPEC §6: they alternate).
  assert.deepEqual(await settledDeliveries(h, rx, id), [
    'stream_started',
    'client_connected',
    'failover_triggered',
    'client_disconnected',
    'stream_stopped',
    'stream_started',
    'client_connected',
    'client_disconnected',
    'stream_stopped',
  ]);

  const started = eventOf(rx, 'stream_started').data;
  assert.equal(started['primary_url'], origin.url('/live.ts'));
  assert.deepEqual(started['failover_urls'], [origin.url('/backup.ts')]);
  const connected = eventOf(rx, 'client_connected').data;
  assert.equal(connected['client_id'], 'viewer-1');
  assert.equal(connected['ip_address'], '127.0.0.1');
  assert.equal(connected['user_agent'], PLAYER_UA);
  assert.equal(connected['username'], 'alice');
  assert.equal(eventOf(rx, 'client_connected', 1).data['client_id'], 'viewer-2');
  const switched = eventOf(rx, 'failover_triggered').data;
  assert.equal(switched['old_url'], origin.url('/live.ts'));
  assert.equal(switched['new_url'], origin.url('/backup.ts'));
  assert.equal(switched['failover_index'], 1);
  assert.equal(switched['reason'], 'manual');
  const left = eventOf(rx, 'client_disconnected').data;
  assert.equal(left['client_id'], 'viewer-1');
  assert.equal(left['reason'], 'closed');
  assert.equal(left['bytes_served'], player.bytes);
  assert.equal(left['username'], 'alice');
  const kicked = eventOf(rx, 'client_disconnected', 1).data;
  assert.equal(kicked['client_id'], 'viewer-2');
  assert.equal(kicked['reason'], 'deleted');
  assert.equal(kicked['bytes_served'], second.bytes);
  const lastLeft = eventOf(rx, 'stream_stopped').data;
  assert.equal(lastLeft['reason'], 'last_client_disconnected');
  assert.equal(lastLeft['total_bytes_served'], player.bytes);
  const stopped = eventOf(rx, 'stream_stopped', 1).data;
  assert.equal(stopped['reason'], 'manual_deletion');
  assert.equal(stopped['total_bytes_served'], player.bytes + second.bytes);
});

test('§6 §8 an HLS client kicked over HTTP stops its stream; the idle stream is then swept without a second stream_stopped', async (t) => {
  const media = m3u8`#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${segmentRef('a.ts')}\n#EXTINF:2.0,\n${segmentRef('b.ts')}\n`;
  const origin = await startOrigin(t, {
    '/ch/index.m3u8': { kind: 'file', body: Buffer.from(media.body), contentType: 'application/vnd.apple.mpegurl' },
    '/ch/a.ts': { kind: 'file', body: byteFill(940, 0x47), contentType: 'video/mp2t' },
    '/ch/b.ts': { kind: 'file', body: byteFill(1_880, 0x47), contentType: 'video/mp2t' },
  });
  const rx = await startReceiver(t);
  const h = await start(t);
  await post(h.base, '/webhooks', { url: rx.url });
  const id = (await post(h.base, '/streams', { url: origin.url('/ch/index.m3u8'), metadata: METADATA }))['stream_id'] as string;

  // The client id given on the playlist URL travels in the sealed segment URLs.
  const playlist = await get(`${h.base}/hls/${id}/playlist.m3u8?client_id=hls-viewer`);
  assert.equal(playlist.status, 200);
  let received = playlist.body.length;
  const uris = matchRewritten(playlist.text, media, '', id);
  for (const uri of uris) {
    const r = await get(h.base + uri);
    assert.equal(r.status, 200);
    received += r.body.length;
  }

  const kick = await api(h.base, 'DELETE', `/hls/${id}/clients/hls-viewer`);
  assert.equal(kick.status, 200);
  assert.deepEqual(kick.body, { message: 'Client hls-viewer disconnected' });
  assert.equal((await api(h.base, 'DELETE', `/hls/${id}/clients/hls-viewer`)).status, 404, 'a client is kicked once');
  await rx.until(() => rx.ofType('client_disconnected').length === 1, 'client_disconnected on kick');

  // Past CLIENT_TIMEOUT the kicked client has nothing left to expire; past STREAM_TIMEOUT the client-less stream goes.
  await rx.until(() => rx.ofType('stream_stopped').length === 1, 'stream_stopped when its only viewer was kicked');
  h.advance(h.app.config.clientTimeoutMs);
  h.advance(h.app.config.streamTimeoutMs);
  await waitFor(() => h.app.registry.getStream(id) === undefined, 5_000, 'the idle stream swept');
  assert.equal((await api(h.base, 'GET', `/streams/${id}`)).status, 404);

  assert.deepEqual(await settledDeliveries(h, rx, id), ['stream_started', 'client_connected', 'client_disconnected', 'stream_stopped']);
  const left = eventOf(rx, 'client_disconnected').data;
  assert.equal(left['client_id'], 'hls-viewer');
  assert.equal(left['reason'], 'kicked');
  assert.equal(left['bytes_served'], received);
  assert.equal(left['segments_served'], uris.length);
  const stopped = eventOf(rx, 'stream_stopped').data;
  assert.equal(stopped['reason'], 'last_client_disconnected');
  assert.equal(stopped['total_bytes_served'], received);
});
