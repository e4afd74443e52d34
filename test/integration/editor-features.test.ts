// The reference features m3u-editor relies on, each driven over HTTP (issue 9 §2, §3): strict_live_ts, sticky
// sessions, a failing failover resolver, POST /test-connection, force=false deletes and HLS expiry.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createApp } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import type { ProxyEvent } from '../../src/core/events.ts';
import { silentLogger, type Logger } from '../../src/log.ts';
import { openPlayer } from '../helpers/player.ts';
import { refusedPort, startOrigin, waitFor } from '../helpers/origin.ts';
import { startResolver } from '../helpers/resolver.ts';
import { api, startProxy, testConfig } from '../helpers/start-proxy.ts';

type Json = Record<string, unknown>;
const CHUNK = 188 * 7;

/** The app with a short resolver deadline and a logger that keeps warnings. */
async function startWithResolverDeadline(t: TestContext, overrides: Partial<Config> = {}): Promise<{ base: string; warnings: string[] }> {
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg) => warnings.push(msg) };
  const app = createApp(testConfig(overrides), { logger, resolverTimeoutMs: 200 });
  t.after(() => app.close(100));
  const port = await app.listen(0, '127.0.0.1');
  return { base: `http://127.0.0.1:${port}`, warnings };
}

async function create(base: string, body: Json): Promise<string> {
  const r = await api(base, 'POST', '/streams', body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body as Json)['stream_id'] as string;
}

test('strict_live_ts: a 2 s stall fails over at once (the read timeout is a minute), and the stalled URL is skipped', async (t) => {
  const origin = await startOrigin(t, {
    '/a.ts': { kind: 'live', fill: 0x11, fault: { kind: 'stall', afterBytes: CHUNK * 10 } },
    '/b.ts': { kind: 'live', fill: 0x22 },
  });
  const { base } = await startProxy(t, { readTimeoutMs: 60_000 });
  const id = await create(base, { url: origin.url('/a.ts'), failover_urls: [origin.url('/b.ts')], strict_live_ts: true });
  const player = await openPlayer(t, `${base}/stream/${id}`);
  // A safety bound well below DEFAULT_READ_TIMEOUT: only the strict stall timeout can move the player in time.
  await waitFor(() => player.lastByte === 0x22, 10_000, 'the strict stall timeout moved the player to b');
  assert.equal(player.res.destroyed, false);

  // The player leaves, so the stream's shared upstream closes and the next player opens one of its own.
  player.leave();
  const upstreams = async (): Promise<unknown> => ((await api(base, 'GET', `/streams/${id}`)).body as { stream: Json }).stream['upstream_connections'];
  for (let i = 0; i < 100 && (await upstreams()) !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await upstreams(), 0, 'the shared upstream closed with its last viewer');
  // b goes down: a is healthy again but still cooling down, so a new player is not sent back to it.
  origin.set('/a.ts', { kind: 'live', fill: 0x11 });
  origin.set('/b.ts', { kind: 'status', status: 503, body: 'down' });
  // A player, not api(): were a chosen, its endless body would never end.
  const second = await openPlayer(t, `${base}/stream/${id}`);
  assert.equal(second.res.statusCode, 502);
  assert.equal(origin.hits('/a.ts').length, 1, 'the stalled URL was skipped');
});

test('use_sticky_session: a reconnect goes to the URL the redirect handed out, not back to the load balancer', async (t) => {
  const origin = await startOrigin(t, {
    '/lb.ts': { kind: 'redirect', location: '/node1.ts' },
    '/node1.ts': { kind: 'live', fill: 0x11, fault: { kind: 'reset', afterBytes: CHUNK * 5, times: 1 } },
    '/lb2.ts': { kind: 'redirect', location: '/node2.ts' },
    '/node2.ts': { kind: 'live', fill: 0x11, fault: { kind: 'reset', afterBytes: CHUNK * 5, times: 1 } },
  });
  const { base } = await startProxy(t);
  const id = await create(base, { url: origin.url('/lb.ts'), use_sticky_session: true });
  const player = await openPlayer(t, `${base}/stream/${id}`);
  await player.waitBytes(CHUNK * 10);
  assert.equal(origin.hits('/node1.ts').length, 2, 'reconnected after the reset');
  assert.equal(origin.hits('/lb.ts').length, 1, 'straight to the pinned origin');

  // The same without sticky sessions asks the load balancer again.
  const loose = await create(base, { url: origin.url('/lb2.ts') });
  const other = await openPlayer(t, `${base}/stream/${loose}`);
  await other.waitBytes(CHUNK * 10);
  assert.equal(origin.hits('/node2.ts').length, 2);
  assert.equal(origin.hits('/lb2.ts').length, 2);
});

test('failover_resolver_url: a hanging resolver is bounded in time, logged once, and manual failover says why', async (t) => {
  const origin = await startOrigin(t, { '/dead.ts': { kind: 'status', status: 503, body: 'busy' } });
  const resolver = await startResolver(t, { kind: 'hang' });
  const { base, warnings } = await startWithResolverDeadline(t);
  const id = await create(base, { url: origin.url('/dead.ts'), failover_resolver_url: resolver.url });
  const stat = (await api(base, 'GET', `/streams/${id}`)).body as { stream: Json };
  assert.equal(stat.stream['has_failover'], true);
  assert.equal(stat.stream['failover_resolver_url'], resolver.url);

  for (let i = 0; i < 2; i++) {
    const r = await api(base, 'GET', `/stream/${id}`);
    assert.equal(r.status, 502, 'no next URL: the player gets the upstream failure');
  }
  assert.ok(resolver.questions.length >= 2);
  assert.equal(resolver.questions[0]?.status_code, 503);
  assert.deepEqual(warnings.filter((w) => w === 'failover resolver failed'), ['failover resolver failed'], 'logged once');

  const manual = await api(base, 'POST', `/streams/${id}/failover`);
  assert.equal(manual.status, 502);
  assert.equal((manual.body as Json)['code'], 'RESOLVER_FAILED');
  resolver.setMode({ kind: 'none' });
  const none = await api(base, 'POST', `/streams/${id}/failover`);
  assert.equal(none.status, 409);
  assert.equal((none.body as Json)['code'], 'CONFLICT');
  assert.equal(resolver.questions.at(-1)?.reason, 'manual');
});

test('POST /test-connection: 200 with success false and a reason when the URL fails; 422 for a bad request', async (t) => {
  const origin = await startOrigin(t, { '/big': { kind: 'live' } });
  const { base } = await startProxy(t);
  const refused = `http://127.0.0.1:${await refusedPort()}/up`;
  const down = await api(base, 'POST', '/test-connection', { url: refused });
  assert.equal(down.status, 200);
  const body = down.body as Json;
  assert.equal(body['success'], false);
  assert.equal(body['url_tested'], refused);
  assert.equal(typeof body['error'], 'string');
  assert.equal('status_code' in body, false);
  const missing = await api(base, 'POST', '/test-connection', { url: origin.url('/nothing') });
  assert.deepEqual([(missing.body as Json)['success'], (missing.body as Json)['status_code']], [false, 404]);
  // An endless body: the test reads a few KiB and lets go.
  const endless = await api(base, 'POST', '/test-connection', { url: origin.url('/big') });
  assert.equal((endless.body as Json)['success'], true);
  await origin.lastRequest('/big').socketClosed;
  for (const bad of [{}, { url: 'ftp://x/y' }, []]) {
    const r = await api(base, 'POST', '/test-connection', bad);
    assert.equal(r.status, 422, JSON.stringify(bad));
  }
});

test('DELETE /streams/by-metadata force=false from a JSON body: the only viewer leaving deletes its stream', async (t) => {
  const origin = await startOrigin(t, { '/one.ts': { kind: 'live' } });
  const { base, app } = await startProxy(t);
  const events: ProxyEvent[] = [];
  t.after(app.bus.subscribe((e) => events.push(e)));
  const id = await create(base, { url: origin.url('/one.ts'), metadata: { channel_id: '4' } });
  const player = await openPlayer(t, `${base}/stream/${id}?client_id=tab-9`);
  await player.waitBytes(1);
  const r = await api(base, 'DELETE', '/streams/by-metadata', { field: 'channel_id', value: 4, force: false, client_id: 'tab-9' });
  assert.deepEqual(r.body, { deleted_count: 1, deleted_streams: [id], skipped_streams: [], message: 'Deleted 1 stream(s) matching channel_id=4' });
  assert.deepEqual(await player.done, { complete: false });
  assert.equal(app.registry.getStream(id), undefined);
  const stops = events.filter((e) => e.event_type === 'stream_stopped').map((e) => e.data['reason']);
  assert.deepEqual(stops, ['metadata_filter_deletion']);
});

test('§6 an HLS viewer that stops counts as gone soon after CLIENT_TIMEOUT, with a 10-minute CLEANUP_INTERVAL', async (t) => {
  const playlist = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg1.ts\n';
  const origin = await startOrigin(t, { '/ch.m3u8': { kind: 'file', body: Buffer.from(playlist), contentType: 'application/vnd.apple.mpegurl' } });
  const { base, app } = await startProxy(t, { clientTimeoutMs: 300, cleanupIntervalMs: 600_000 });
  const events: ProxyEvent[] = [];
  t.after(app.bus.subscribe((e) => events.push(e)));
  const id = await create(base, { url: origin.url('/ch.m3u8') });
  assert.equal((await api(base, 'GET', `/hls/${id}/playlist.m3u8?client_id=hls-1`)).status, 200);
  assert.equal(app.registry.clientCount(id), 1);
  await waitFor(() => app.registry.clientCount(id) === 0, 5_000, 'the idle HLS viewer ended by the short tick');
  assert.deepEqual(
    events.map((e) => `${e.event_type}:${String(e.data['reason'] ?? '')}`),
    ['stream_started:', 'client_connected:', 'client_disconnected:timeout', 'stream_stopped:last_client_disconnected'],
  );
  // A new request makes it a viewer again, and the stream starts again.
  assert.equal((await api(base, 'GET', `/hls/${id}/playlist.m3u8?client_id=hls-1`)).status, 200);
  assert.deepEqual(events.slice(4).map((e) => e.event_type), ['stream_started', 'client_connected']);
});

test('share_upstream: stored per stream, SHARE_LIVE_UPSTREAM when a create names none, answered in StreamStat', async (t) => {
  const { base } = await startProxy(t, { shareLiveUpstream: false });
  const byDefault = await create(base, { url: 'http://origin.invalid/a.ts' });
  const chosen = await create(base, { url: 'http://origin.invalid/b.ts', share_upstream: true });
  const shareOf = async (id: string): Promise<unknown> => ((await api(base, 'GET', `/streams/${id}`)).body as { stream: Json }).stream['share_upstream'];
  assert.equal(await shareOf(byDefault), false);
  assert.equal(await shareOf(chosen), true);
  const bad = await api(base, 'POST', '/streams', { url: 'http://origin.invalid/c.ts', share_upstream: 'yes' });
  assert.equal(bad.status, 422);
});
