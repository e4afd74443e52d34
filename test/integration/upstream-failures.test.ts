// Upstream failures before the first byte (SPEC §5.1, §9): 502/504 JSON, never an empty 200; redirects; events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusedPort, startOrigin } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

async function createStream(base: string, url: string, failover: string[] = []): Promise<{ stream_id: string; stream_endpoint: string }> {
  const r = await api(base, 'POST', '/streams', { url, failover_urls: failover });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as { stream_id: string; stream_endpoint: string };
}

function assertSafeError(body: unknown, code: string): void {
  const b = body as { detail: string; code: string };
  assert.equal(b.code, code);
  assert.equal(typeof b.detail, 'string');
  assert.doesNotMatch(b.detail, /127\.0\.0\.1|http:/, 'no upstream URL in an error body');
}

test('§5.1 upstream 404 with no failover: 502 UPSTREAM_STATUS JSON, stream_failed emitted, error counted', async (t) => {
  const origin = await startOrigin(t, { '/gone.ts': { kind: 'status', status: 404 } });
  const proxy = await startProxy(t, { maxRetries: 2 });
  const s = await createStream(proxy.base, origin.url('/gone.ts?user=secret'));
  const events: string[] = [];
  proxy.app.bus.subscribe((e) => events.push(e.event_type));
  const r = await api(proxy.base, 'GET', s.stream_endpoint);
  assert.equal(r.status, 502);
  assertSafeError(r.body, 'UPSTREAM_STATUS');
  assert.equal(origin.hits('/gone.ts').length, 2, 'two rounds over a one-URL ring');
  assert.ok(events.includes('stream_failed'));
  assert.ok(!events.includes('client_connected'), 'no session for a failed open');
  assert.ok((proxy.app.registry.getStream(s.stream_id)?.errorCount ?? 0) >= 2);
});

test('§5.1 connection refused with no failover: 502 UPSTREAM_FAILED JSON', async (t) => {
  const port = await refusedPort();
  const proxy = await startProxy(t, { maxRetries: 1 });
  const s = await createStream(proxy.base, `http://127.0.0.1:${port}/live.ts`);
  const r = await api(proxy.base, 'GET', s.stream_endpoint);
  assert.equal(r.status, 502);
  assertSafeError(r.body, 'UPSTREAM_FAILED');
  const detailed = await api(proxy.base, 'GET', '/stats/detailed');
  assert.equal((detailed.body as { errors_by_kind: Record<string, number> }).errors_by_kind['refused'], 1);
});

test('§5.1 origin that never answers headers: 504 UPSTREAM_TIMEOUT JSON', async (t) => {
  const origin = await startOrigin(t, { '/slow.ts': { kind: 'hang' } });
  const proxy = await startProxy(t, { maxRetries: 1, connectTimeoutMs: 150 });
  const s = await createStream(proxy.base, origin.url('/slow.ts'));
  const r = await api(proxy.base, 'GET', s.stream_endpoint);
  assert.equal(r.status, 504);
  assertSafeError(r.body, 'UPSTREAM_TIMEOUT');
  // The timed-out request's socket is not left open at the origin.
  await origin.lastRequest('/slow.ts').socketClosed;
});

test('§5.1 upstream 5xx on every round: 502, and the HEAD answer is the same error', async (t) => {
  const origin = await startOrigin(t, { '/err.ts': { kind: 'status', status: 503, body: 'busy' } });
  const proxy = await startProxy(t, { maxRetries: 3 });
  const s = await createStream(proxy.base, origin.url('/err.ts'));
  const r = await api(proxy.base, 'GET', s.stream_endpoint);
  assert.equal(r.status, 502);
  assert.equal(origin.hits('/err.ts').length, 3);
  const head = await fetch(proxy.base + s.stream_endpoint, { method: 'HEAD' });
  assert.equal(head.status, 502);
});

test('§5.2 redirects are followed (relative Location), too many are a 502', async (t) => {
  const origin = await startOrigin(t, {
    '/r1.ts': { kind: 'redirect', location: '/r2.ts' },
    '/r2.ts': { kind: 'redirect', location: '/real.ts', status: 307 },
    '/real.ts': { kind: 'file', body: Buffer.alloc(2048, 9), contentType: 'video/mp2t' },
    '/loop.ts': { kind: 'redirect', location: '/loop.ts' },
  });
  const proxy = await startProxy(t, { maxRetries: 1 });
  const s = await createStream(proxy.base, origin.url('/r1.ts'));
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  assert.equal(player.res.statusCode, 200);
  await player.done;
  assert.equal(player.bytes, 2048);

  const loop = await createStream(proxy.base, origin.url('/loop.ts'));
  const r = await api(proxy.base, 'GET', loop.stream_endpoint);
  assert.equal(r.status, 502);
  assertSafeError(r.body, 'UPSTREAM_FAILED');
  assert.equal(origin.hits('/loop.ts').length, 6, 'the first request and five redirects');
});

test('§5.1 mid-stream: a VOD that cannot be resumed ends the player connection uncleanly, never silently short', async (t) => {
  const movie = Buffer.alloc(512 * 1024, 5);
  const origin = await startOrigin(t, { '/movie.mp4': { kind: 'file', body: movie, ranges: false, fault: { kind: 'reset', afterBytes: 100_000 } } });
  const proxy = await startProxy(t, { maxRetries: 1 });
  const s = await createStream(proxy.base, origin.url('/movie.mp4'));
  const player = await openPlayer(t, proxy.base + s.stream_endpoint);
  assert.equal(player.res.statusCode, 200);
  assert.deepEqual(await player.done, { complete: false });
  assert.ok(player.bytes < movie.length);
  assert.equal(proxy.app.connections.count(), 0);
});

test('§5.1 a redirect to another origin drops credential headers, keeps the rest', async (t) => {
  const cdn = await startOrigin(t, { '/seg.ts': { kind: 'file', body: Buffer.alloc(100, 1) } });
  const origin = await startOrigin(t, { '/live.ts': { kind: 'redirect', location: cdn.url('/seg.ts') } });
  const proxy = await startProxy(t);
  const r = await api(proxy.base, 'POST', '/streams', { url: origin.url('/live.ts'), headers: { Authorization: 'Bearer x', Cookie: 'c=1', Referer: 'http://ref/' } });
  const player = await openPlayer(t, proxy.base + (r.body as { stream_endpoint: string }).stream_endpoint);
  await player.done;
  assert.equal(player.bytes, 100);
  assert.equal(origin.lastRequest('/live.ts').headers.authorization, 'Bearer x');
  const h = cdn.lastRequest('/seg.ts').headers;
  assert.equal(h.authorization, undefined);
  assert.equal(h.cookie, undefined);
  assert.equal(h.referer, 'http://ref/');
});
