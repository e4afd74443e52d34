import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capClientText, MAX_CLIENT_TEXT_BYTES, MemoryRegistry, type StreamInput } from '../../src/core/registry.ts';

function input(url: string): StreamInput {
  return { url, failoverUrls: [], userAgent: null, headers: {}, metadata: {}, kind: 'hls' };
}
const info = { userAgent: 'ua', ip: '127.0.0.1', username: null };

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('upsert creates once, then updates the mutable fields', () => {
  const r = new MemoryRegistry(clock().now);
  const a = r.upsertStream('id1', input('http://a/x.m3u8'));
  assert.equal(a.created, true);
  const b = r.upsertStream('id1', { ...input('http://a/x.m3u8'), failoverUrls: ['http://b/x.m3u8'], metadata: { k: 'v' } });
  assert.equal(b.created, false);
  assert.equal(b.stream, a.stream);
  assert.deepEqual(b.stream.failoverUrls, ['http://b/x.m3u8']);
  assert.deepEqual(b.stream.metadata, { k: 'v' });
  assert.equal(r.streamCount(), 1);
});

test('an HLS client is one session per (stream, client id)', () => {
  const r = new MemoryRegistry(clock().now);
  const { stream } = r.upsertStream('s', input('http://a/x.m3u8'));
  assert.equal(r.touchHlsClient(stream, 'c1', info).created, true);
  assert.equal(r.touchHlsClient(stream, 'c1', info).created, false);
  assert.equal(r.clientCount('s'), 1);
});

test('two continuous sessions with one client id do not remove each other', () => {
  const r = new MemoryRegistry(clock().now);
  const { stream } = r.upsertStream('s', input('http://a/x.ts'));
  const one = r.openSession(stream, 'c1', info);
  const two = r.openSession(stream, 'c1', info);
  assert.notEqual(one.key, two.key);
  assert.equal(r.localClientCount('s'), 2);
  r.removeClient(one.key);
  assert.equal(r.clientCount('s'), 1);
  assert.equal(r.localClientCount('s'), 1);
  assert.equal(r.localClientCount('unknown'), 0);
  assert.equal(r.getClient(two.key), two);
  assert.equal(r.removeClient(one.key), undefined, 'removing twice is a no-op');
});

test('bytes are counted per client, per stream and in total', () => {
  const r = new MemoryRegistry(clock().now);
  const { stream } = r.upsertStream('s', input('http://a/x.ts'));
  const c = r.openSession(stream, 'c1', info);
  r.addBytes(c, stream, 100);
  r.addBytes(c, stream, 23);
  r.addSegment(c, stream);
  assert.equal(c.bytesServed, 123);
  assert.equal(stream.bytesServed, 123);
  assert.equal(r.totalBytesServed, 123);
  assert.equal(r.totalSegmentsServed, 1);
  r.deleteStream('s');
  assert.equal(r.totalBytesServed, 123, 'totals survive the stream');
});

test('deleteStream removes the stream and every client of it', () => {
  const r = new MemoryRegistry(clock().now);
  const { stream } = r.upsertStream('s', input('http://a/x.ts'));
  r.openSession(stream, 'c1', info);
  r.touchHlsClient(stream, 'c2', info);
  const removed = r.deleteStream('s');
  assert.equal(removed?.clients.length, 2);
  assert.equal(r.clientCount(), 0);
  assert.equal(r.getStream('s'), undefined);
  assert.equal(r.deleteStream('s'), undefined);
});

test('findExpired: idle HLS clients, then client-less idle streams; continuous sessions never idle out', () => {
  const c = clock();
  const r = new MemoryRegistry(c.now);
  const { stream: hls } = r.upsertStream('h', input('http://a/x.m3u8'));
  const { stream: ts } = r.upsertStream('t', input('http://a/x.ts'));
  const { stream: empty } = r.upsertStream('e', input('http://a/y.m3u8'));
  r.touchHlsClient(hls, 'c1', info);
  r.openSession(ts, 'c2', info);
  c.advance(29_000);
  assert.deepEqual(r.findExpired(30_000, 300_000), { clients: [], streams: [] });
  c.advance(1_000);
  const first = r.findExpired(30_000, 300_000);
  assert.deepEqual(first.clients.map((x) => x.clientId), ['c1']);
  assert.deepEqual(first.streams, [], 'streams wait for STREAM_TIMEOUT');
  c.advance(300_000);
  const later = r.findExpired(30_000, 300_000);
  assert.deepEqual(later.streams.map((s) => s.id).sort(), ['e', 'h']);
  assert.ok(!later.streams.includes(ts));
  assert.ok(later.streams.includes(empty));
});

test('issue 14: stored User-Agent, username and address are capped at 512 UTF-8 bytes, on a character boundary', () => {
  const r = new MemoryRegistry(clock().now);
  const { stream } = r.upsertStream('s', input('http://a/x.m3u8'));
  const long = { userAgent: 'é'.repeat(5000), ip: '1'.repeat(9000), username: 'x'.repeat(7000) };
  const c = r.touchHlsClient(stream, 'c1', long).client;
  assert.equal(Buffer.byteLength(c.userAgent), MAX_CLIENT_TEXT_BYTES);
  assert.ok(!c.userAgent.includes('\uFFFD'));
  assert.equal(c.username?.length, MAX_CLIENT_TEXT_BYTES);
  assert.equal(c.ip.length, MAX_CLIENT_TEXT_BYTES);
  r.touchHlsClient(stream, 'c1', { ...info, username: '🙂'.repeat(300) });
  assert.equal(Buffer.byteLength(c.username ?? ''), MAX_CLIENT_TEXT_BYTES);
  assert.equal(capClientText('short'), 'short');
  assert.equal(capClientText('a' + '🙂'.repeat(200)).length, 1 + 2 * 127, 'a 4-byte character is never split');
});

test('issue 14: past the per-stream limit the least recently active HLS client is chosen, never a continuous one', () => {
  const c = clock();
  const r = new MemoryRegistry(c.now, { perStream: 3, total: 100 });
  const { stream } = r.upsertStream('s', input('http://a/x.m3u8'));
  r.openSession(stream, 'live', info);
  r.touchHlsClient(stream, 'h1', info);
  r.touchHlsClient(stream, 'h2', info);
  // h1 is touched again: h2 is now the least recently active.
  r.touchHlsClient(stream, 'h1', info);
  assert.deepEqual(r.evictionsFor('s', 'h1'), [], 'a known client needs no room');
  const victims = r.evictionsFor('s', 'h3');
  assert.deepEqual(victims.map((v) => v.clientId), ['h2']);
  assert.equal(r.clientEvictions, 1);
  for (const v of victims) r.removeClient(v.key);
  r.touchHlsClient(stream, 'h3', info);
  // Only continuous sessions left to choose from: nothing is evicted (each holds a live connection).
  const only = new MemoryRegistry(c.now, { perStream: 1, total: 100 });
  const s2 = only.upsertStream('t', input('http://a/y.ts')).stream;
  only.openSession(s2, 'live', info);
  assert.deepEqual(only.evictionsFor('t', null), []);
});

test('issue 14: past the total limit the least recently active HLS client of any stream is chosen', () => {
  const r = new MemoryRegistry(clock().now, { perStream: 100, total: 2 });
  const a = r.upsertStream('a', input('http://a/x.m3u8')).stream;
  const b = r.upsertStream('b', input('http://b/x.m3u8')).stream;
  r.touchHlsClient(a, 'a1', info);
  r.touchHlsClient(b, 'b1', info);
  r.touchHlsClient(a, 'a1', info);
  assert.deepEqual(r.evictionsFor('a', 'a2').map((v) => v.clientId), ['b1']);
});
