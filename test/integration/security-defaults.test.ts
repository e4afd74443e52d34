// SPEC §4 "Browsers": an unauthenticated LAN proxy cannot be driven by a web page through its visitor's browser.
// CORS only on playback routes, JSON-only management bodies, and a Host check against DNS rebinding.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { startOrigin } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: { detail?: string; code?: string };
}

/** One raw request (fetch would not let a test set Host), body read in full. */
function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text.startsWith('{') ? (JSON.parse(text) as Answer['json']) : {} }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

const FOREIGN = { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' };

test('§4 a preflight from a foreign origin is refused on management routes and allowed on playback routes', async (t) => {
  const { port } = await startProxy(t);
  for (const path of ['/streams', '/streams/abc', '/webhooks', '/stats', '/']) {
    const r = await send(port, 'OPTIONS', path, FOREIGN);
    assert.equal(r.status, 403, path);
    assert.equal(r.json.code, 'FORBIDDEN_ORIGIN');
    assert.equal(r.headers['access-control-allow-origin'], undefined, path);
    assert.equal(r.headers['access-control-allow-methods'], undefined, path);
  }
  for (const path of ['/hls/abc/playlist.m3u8', '/hls/abc/s/T.ts', '/stream/abc']) {
    const r = await send(port, 'OPTIONS', path, { origin: 'http://player.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' });
    assert.equal(r.status, 204, path);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.match(String(r.headers['access-control-allow-headers']), /Range/);
  }
  // A simple GET gets no CORS header either, so a foreign page cannot read the answer.
  const list = await send(port, 'GET', '/streams', { origin: 'http://evil.example' });
  assert.equal(list.status, 200);
  assert.equal(list.headers['access-control-allow-origin'], undefined);
});

test('§4 CORS_ORIGINS opens the management API to the origins it lists, and only to them', async (t) => {
  const { port } = await startProxy(t, { corsOrigins: ['http://editor.example:8080'] });
  const ok = await send(port, 'OPTIONS', '/streams', { ...FOREIGN, origin: 'http://editor.example:8080' });
  assert.equal(ok.status, 204);
  assert.equal(ok.headers['access-control-allow-origin'], 'http://editor.example:8080');
  assert.match(String(ok.headers['access-control-allow-headers']), /Content-Type/);
  assert.match(String(ok.headers['vary']), /Origin/);
  const get = await send(port, 'GET', '/streams', { origin: 'http://editor.example:8080' });
  assert.equal(get.headers['access-control-allow-origin'], 'http://editor.example:8080');
  assert.equal((await send(port, 'OPTIONS', '/streams', FOREIGN)).status, 403);
  assert.equal((await send(port, 'GET', '/streams', { origin: 'http://evil.example' })).headers['access-control-allow-origin'], undefined);
});

test('§4 a text/plain POST (no preflight in a browser) is refused with 415 and creates nothing', async (t) => {
  const proxy = await startProxy(t);
  const body = JSON.stringify({ url: 'http://169.254.169.254/latest.ts' });
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const r = await send(proxy.port, 'POST', '/streams', { 'content-type': type, origin: 'http://evil.example' }, body);
    assert.equal(r.status, 415, type);
    assert.equal(r.json.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(r.json.detail ?? '', /application\/json/);
  }
  assert.equal((await send(proxy.port, 'POST', '/webhooks', { 'content-type': 'text/plain' }, '{"url":"http://127.0.0.1:9/"}')).status, 415);
  assert.equal([...proxy.app.registry.streams()].length, 0, 'no stream was created');
  // The editor's way (JSON, and Content-Type: application/json even on a GET without body) still works.
  const created = await send(proxy.port, 'POST', '/streams', { 'content-type': 'application/json', accept: 'application/json' }, body);
  assert.equal(created.status, 200);
  assert.equal((await send(proxy.port, 'GET', '/streams', { 'content-type': 'application/json' })).status, 200);
});

test('§4 without API_TOKEN a rebinding Host gets 403 naming ALLOWED_HOSTS; IPs, localhost and single labels pass', async (t) => {
  const { port } = await startProxy(t, { allowedHosts: ['tv.example.com'] });
  const rebound = await send(port, 'GET', '/streams', { host: `rebind.attacker.example:${port}` });
  assert.equal(rebound.status, 403);
  assert.equal(rebound.json.code, 'FORBIDDEN_HOST');
  assert.match(rebound.json.detail ?? '', /ALLOWED_HOSTS/);
  const post = await send(port, 'POST', '/streams', { host: 'rebind.attacker.example', 'content-type': 'application/json' }, '{"url":"http://127.0.0.1:9/a.ts"}');
  assert.equal(post.status, 403);
  for (const host of [`127.0.0.1:${port}`, `[::1]:${port}`, `localhost:${port}`, 'm3u-proxy:38085', 'tv.example.com']) {
    assert.equal((await send(port, 'GET', '/streams', { host })).status, 200, host);
  }
  // /livez and playback routes are not management: they answer whatever the Host.
  assert.equal((await send(port, 'GET', '/livez', { host: 'rebind.attacker.example' })).status, 200);
  assert.equal((await send(port, 'GET', '/hls/nope/playlist.m3u8', { host: 'rebind.attacker.example' })).json.code, 'NOT_FOUND');
});

test('§4 with API_TOKEN set the token is the protection: any Host with the token is served, none without', async (t) => {
  const { port } = await startProxy(t, { apiToken: 'tok' });
  assert.equal((await send(port, 'GET', '/streams', { host: 'proxy.example.com', 'x-api-token': 'tok' })).status, 200);
  assert.equal((await send(port, 'GET', '/streams', { host: 'proxy.example.com' })).status, 401);
  // The editor's calls: Accept and Content-Type JSON on every call, a DELETE with a JSON body.
  const h = { 'x-api-token': 'tok', accept: 'application/json', 'content-type': 'application/json' };
  const created = await send(port, 'POST', '/streams', h, JSON.stringify({ url: 'http://127.0.0.1:9/live.ts', metadata: { id: 1 } }));
  assert.equal(created.status, 200);
  assert.equal((await send(port, 'GET', '/streams', h)).status, 200);
  assert.equal((await send(port, 'DELETE', '/streams/by-metadata?field=id&value=1', h, '{}')).status < 500, true);
});

test('§2 TRUST_PROXY=private: X-Forwarded-For from a loopback peer names the viewer; false ignores it', async (t) => {
  const origin = await startOrigin(t, { '/a.m3u8': { kind: 'file', body: Buffer.from('#EXTM3U\n#EXT-X-ENDLIST\n'), contentType: 'application/vnd.apple.mpegurl' } });
  for (const [trustProxy, want] of [['private', '203.0.113.9'], [false, '127.0.0.1']] as const) {
    const proxy = await startProxy(t, { trustProxy });
    const st = await api(proxy.base, 'POST', '/streams', { url: origin.url('/a.m3u8') });
    const id = (st.body as { stream_id: string }).stream_id;
    const r = await send(proxy.port, 'GET', `/hls/${id}/playlist.m3u8?client_id=v1`, { 'x-forwarded-for': '203.0.113.9, 10.0.0.1', 'x-real-ip': '203.0.113.9' });
    assert.equal(r.status, 200);
    const clients = (await api(proxy.base, 'GET', '/clients')).body as { clients: { client_id: string; ip_address: string }[] };
    assert.equal(clients.clients.find((c) => c.client_id === 'v1')?.ip_address, want, `TRUST_PROXY=${String(trustProxy)}`);
  }
});
