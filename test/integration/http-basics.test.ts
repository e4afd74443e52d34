// SPEC §7 and §9: health/info/stats shapes, JSON 404/405, CORS preflight and slow-client limits.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { createTokenChecker } from '../../src/http/auth.ts';
import { createRouter } from '../../src/http/router.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/log.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

type Json = Record<string, unknown>;
const PROXY_STATS_KEYS = ['active_clients', 'active_streams', 'total_bytes_served', 'total_clients', 'total_segments_served', 'total_streams', 'uptime_seconds'];

test('§7 health, root, livez and info answer their shapes', async (t) => {
  const { base } = await startProxy(t, { apiToken: 'secret-token', webhookSecret: 'whs' });
  const h = { 'x-api-token': 'secret-token' };
  const livez = await api(base, 'GET', '/livez');
  assert.deepEqual(livez.body, { status: 'ok' });
  const root = (await api(base, 'GET', '/', undefined, h)).body as Json;
  assert.equal(root['status'], 'running');
  assert.equal(root['message'], 'm3u-proxy is running');
  assert.equal(typeof root['version'], 'string');
  assert.deepEqual(Object.keys(root['stats'] as Json).sort(), PROXY_STATS_KEYS);
  const health = (await api(base, 'GET', '/health', undefined, h)).body as Json;
  assert.equal(health['status'], 'healthy');
  for (const k of ['version', 'uptime_seconds', 'active_streams', 'active_clients', 'total_bytes_served', 'stats']) assert.ok(k in health, k);
  const info = await api(base, 'GET', '/info', undefined, h);
  const text = JSON.stringify(info.body);
  assert.ok(!text.includes('secret-token'), 'the token is masked');
  assert.ok(!text.includes('whs'), 'the webhook secret is masked');
  assert.ok('capabilities' in (info.body as Json));
});

test('§7 stats endpoints list streams and clients', async (t) => {
  const { base, app } = await startProxy(t);
  await api(base, 'POST', '/streams', { url: 'http://e.com/a.m3u8' });
  const stream = [...app.registry.streams()][0];
  assert.ok(stream);
  app.streams.touchHlsClient(stream, 'c1', { ip: '10.0.0.1', userAgent: 'VLC', username: 'bob' });
  const stats = (await api(base, 'GET', '/stats')).body as Json;
  for (const k of PROXY_STATS_KEYS) assert.ok(k in stats, k);
  assert.equal(stats['active_streams'], 1);
  assert.equal(stats['active_clients'], 1);
  assert.equal((stats['streams'] as Json[]).length, 1);
  const clients = (await api(base, 'GET', '/stats/clients')).body as Json;
  assert.equal(clients['total_clients'], 1);
  const client = (clients['clients'] as Json[])[0] as Json;
  assert.deepEqual(Object.keys(client).sort(), [
    'bytes_served', 'client_id', 'created_at', 'ip_address', 'is_connected', 'last_access', 'segments_served', 'stream_id', 'user_agent', 'username',
  ]);
  assert.equal(client['username'], 'bob');
  assert.deepEqual((await api(base, 'GET', '/clients')).body, clients);
  const streams = (await api(base, 'GET', '/stats/streams')).body as Json;
  assert.equal(streams['total_streams'], 1);
  assert.equal(((streams['streams'] as Json[])[0] as Json)['client_count'], 1);
});

test('§9 unknown routes are 404 JSON, wrong methods 405 JSON with Allow', async (t) => {
  const { base } = await startProxy(t);
  const nf = await api(base, 'GET', '/nope');
  assert.equal(nf.status, 404);
  assert.equal((nf.body as Json)['code'], 'NOT_FOUND');
  const na = await api(base, 'PUT', '/streams');
  assert.equal(na.status, 405);
  assert.equal((na.body as Json)['code'], 'METHOD_NOT_ALLOWED');
  assert.match(na.headers.get('allow') ?? '', /GET/);
});

test('§5.2 OPTIONS preflight on a playback route answers with CORS headers for any origin; its errors carry them', async (t) => {
  const { base } = await startProxy(t, { apiToken: 'tok' });
  const pre = await fetch(base + '/hls/abc/playlist.m3u8', { method: 'OPTIONS', headers: { origin: 'http://player', 'access-control-request-method': 'GET' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Range/);
  const missing = await api(base, 'GET', '/hls/abc/playlist.m3u8');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('access-control-allow-origin'), '*', 'hls.js can read a playback error');
  assert.match(missing.headers.get('access-control-expose-headers') ?? '', /Content-Range/);
  // Outside a preflight a browser reads only those two: the preflight's own headers are not repeated on every answer.
  assert.equal(missing.headers.get('access-control-allow-methods'), null);
  assert.equal(missing.headers.get('access-control-allow-headers'), null);
  const err = await api(base, 'GET', '/streams');
  assert.equal(err.status, 401);
  assert.equal(err.headers.get('access-control-allow-origin'), null, 'the management API sends no CORS headers');
});

test('§9 a client that never finishes its headers is cut off by the server', async (t) => {
  const server = createHttpServer({
    router: createRouter([]),
    auth: createTokenChecker(undefined),
    rootPath: '',
    logger: silentLogger,
    isShuttingDown: () => false,
    timeouts: { headersMs: 200, requestMs: 300, checkIntervalMs: 50 },
  });
  t.after(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const socket = connect(address.port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  assert.match(received, /^HTTP\/1\.1 408/);
});
