import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern, createRouter, type Route } from '../../src/http/router.ts';

const noop = () => {};
const routes: Route[] = [
  { method: 'GET', path: '/streams', auth: true, handler: noop },
  { method: 'POST', path: '/streams', auth: true, handler: noop },
  { method: 'GET', path: '/streams/by-metadata', auth: true, handler: noop },
  { method: 'GET', path: '/streams/:id', auth: true, handler: noop },
  { method: 'DELETE', path: '/streams/:id', auth: true, handler: noop },
  { method: 'GET', path: '/hls/:id/:kind/:file', auth: false, handler: noop },
];
const router = createRouter(routes);

test('a literal path matches only itself', () => {
  const { regex, keys } = compilePattern('/livez');
  assert.deepEqual(keys, []);
  assert.ok(regex.test('/livez'));
  assert.ok(regex.test('/livez/'), 'one trailing slash is tolerated');
  assert.ok(!regex.test('/livez/x'));
  assert.ok(!regex.test('/livezz'));
});

test('dots in patterns are literal, not wildcards', () => {
  const { regex } = compilePattern('/hls/:id/playlist.m3u8');
  assert.ok(regex.test('/hls/abc/playlist.m3u8'));
  assert.ok(!regex.test('/hls/abc/playlistXm3u8'));
});

test('params are captured and decoded', () => {
  const m = router.match('GET', '/hls/abc/s/tok%2Den.ts');
  assert.equal(m.kind, 'found');
  if (m.kind === 'found') assert.deepEqual(m.params, { id: 'abc', kind: 's', file: 'tok-en.ts' });
});

test('literal routes declared first win over params', () => {
  const m = router.match('GET', '/streams/by-metadata');
  assert.equal(m.kind, 'found');
  if (m.kind === 'found') assert.equal(m.route.path, '/streams/by-metadata');
});

test('a known path with another method is 405 with the allowed list', () => {
  const m = router.match('PUT', '/streams/abc');
  assert.equal(m.kind, 'method-not-allowed');
  if (m.kind === 'method-not-allowed') assert.deepEqual(m.allowed.sort(), ['DELETE', 'GET', 'HEAD']);
});

test('HEAD falls back to the GET handler', () => {
  const m = router.match('HEAD', '/streams');
  assert.equal(m.kind, 'found');
  if (m.kind === 'found') assert.equal(m.route.method, 'GET');
});

test('an unknown path is not-found', () => {
  assert.equal(router.match('GET', '/nope').kind, 'not-found');
  assert.equal(router.match('GET', '/streams/a/b/c').kind, 'not-found');
});

test('a malformed escape in a segment does not throw', () => {
  const m = router.match('GET', '/streams/%E0%A4%A');
  assert.equal(m.kind, 'found');
  if (m.kind === 'found') assert.equal(m.params['id'], '%E0%A4%A');
});

test('a pattern open at its first segment is tried in table order beside the literal ones', () => {
  const r = createRouter([
    { method: 'GET', path: '/stream/:id', auth: false, handler: noop },
    { method: 'GET', path: '/:kind/x', auth: false, handler: noop },
    { method: 'GET', path: '/hls/x', auth: false, handler: noop },
    { method: 'HEAD', path: '/hls/:id', auth: false, handler: noop },
    { method: 'GET', path: '/', auth: false, handler: noop },
  ]);
  const found = (method: string, path: string): string | undefined => {
    const m = r.match(method, path);
    return m.kind === 'found' ? `${m.route.method} ${m.route.path}` : m.kind;
  };
  assert.equal(found('GET', '/stream/x'), 'GET /stream/:id', 'declared before the open pattern, so it wins');
  assert.equal(found('GET', '/hls/x'), 'GET /:kind/x', 'the open pattern was declared first');
  assert.equal(found('GET', '/other/x'), 'GET /:kind/x', 'an unknown first segment still reaches the open pattern');
  assert.equal(found('GET', '/other/y'), 'not-found');
  assert.equal(found('HEAD', '/hls/x'), 'HEAD /hls/:id', "a HEAD route of the path's own first segment is found");
  assert.equal(found('HEAD', '/stream/x'), 'GET /stream/:id', 'and one elsewhere does not stop the GET fallback');
  assert.equal(found('GET', '/'), 'GET /');
  assert.equal(found('POST', '/'), 'method-not-allowed');
});
