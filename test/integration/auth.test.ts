// SPEC §4: the API token guards management endpoints only, compared in constant time and never logged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

type Json = Record<string, unknown>;
const TOKEN = 'the-secret-token-123';

test('§4 management endpoints need the token: 401 missing, 403 wrong, both with WWW-Authenticate', async (t) => {
  const { base } = await startProxy(t, { apiToken: TOKEN });
  for (const [method, path] of [
    ['GET', '/'], ['GET', '/info'], ['GET', '/streams'], ['POST', '/streams'], ['GET', '/stats'], ['GET', '/stats/streams'],
    ['GET', '/clients'], ['GET', '/health'], ['DELETE', '/streams/abc'], ['DELETE', '/hls/abc/clients/c1'],
  ] as const) {
    const missing = await api(base, method, path);
    assert.equal(missing.status, 401, `${method} ${path}`);
    assert.match(String((missing.body as Json)['detail']), /^API token required/);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    const wrong = await api(base, method, path, undefined, { 'x-api-token': 'nope' });
    assert.equal(wrong.status, 403, `${method} ${path}`);
    assert.equal((wrong.body as Json)['detail'], 'Invalid API token');
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer');
  }
});

test('§4 the token works in the header (any case) or the query; the header wins', async (t) => {
  const { base } = await startProxy(t, { apiToken: TOKEN });
  assert.equal((await api(base, 'GET', '/streams', undefined, { 'X-Api-TOKEN': TOKEN })).status, 200);
  assert.equal((await api(base, 'GET', `/streams?api_token=${TOKEN}`)).status, 200);
  assert.equal((await api(base, 'GET', `/streams?api_token=${TOKEN}`, undefined, { 'x-api-token': 'wrong' })).status, 403);
  assert.equal((await api(base, 'GET', '/streams?api_token=wrong', undefined, { 'x-api-token': TOKEN })).status, 200);
});

test('§4 livez and playback routes never need the token', async (t) => {
  const { base } = await startProxy(t, { apiToken: TOKEN });
  assert.equal((await api(base, 'GET', '/livez')).status, 200);
  // Unknown stream: the playback route answers 404, not 401.
  const play = await api(base, 'GET', '/stream/0123456789abcdef0123456789abcdef');
  assert.equal(play.status, 404);
});

test('§4 an empty API_TOKEN means no authentication', async (t) => {
  const { base } = await startProxy(t, { apiToken: undefined });
  assert.equal((await api(base, 'GET', '/streams')).status, 200);
});

test('§4 the token never reaches the log', async (t) => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) });
  const { base } = await startProxy(t, { apiToken: TOKEN }, logger);
  await api(base, 'GET', `/streams?api_token=${TOKEN}`);
  await api(base, 'GET', '/streams?api_token=wrong-guess', undefined, {});
  await api(base, 'POST', '/streams', { url: 'http://e.com/a.m3u8' }, { 'x-api-token': TOKEN });
  assert.ok(lines.length > 0, 'debug logging produced request lines');
  const all = lines.join('');
  assert.ok(!all.includes(TOKEN));
  assert.ok(!all.includes('wrong-guess'));
});
