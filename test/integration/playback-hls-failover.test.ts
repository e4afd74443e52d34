// SPEC §5.2/§5.3 failover of HLS variants: players fetch the master once and then reload only the variant URL the
// proxy handed them, so that URL must follow the stream to its next URL (after an error, or a manual failover).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { assertJsonError, createHlsStream, get, playlistUris, proxyUrl } from '../helpers/hls.ts';
import { startOrigin, waitFor, type Behaviour, type Origin } from '../helpers/origin.ts';
import { startResolver } from '../helpers/resolver.ts';
import { api, startProxy, type RunningProxy } from '../helpers/start-proxy.ts';

const MPEGURL = 'application/vnd.apple.mpegurl';
const playlist = (body: string): Behaviour => ({ kind: 'file', body: Buffer.from(body), contentType: MPEGURL });
const master = (low: string, high: string): string =>
  `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\n${low}\n#EXT-X-STREAM-INF:BANDWIDTH=3000000\n${high}\n`;
// Live windows from media sequence 7; the backup is one segment ahead, and that newer segment (a number the player
// has not been given yet) is the one whose bytes say who answered: the ones it already knows keep their URIs (§5.3).
const media = (...segments: string[]): string =>
  `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:7\n${segments.map((s) => `#EXTINF:4.0,\n${s}\n`).join('')}`;

/** Two copies of a channel with two variants each; the backup spells its URLs differently. */
async function twoOrigins(t: TestContext): Promise<Origin> {
  return startOrigin(t, {
    '/a/master.m3u8': playlist(master('low/index.m3u8', 'high/index.m3u8')),
    '/a/low/index.m3u8': playlist(media('a-low.ts')),
    '/a/high/index.m3u8': playlist(media('a-high.ts')),
    '/b/master.m3u8': playlist(master('b-low.m3u8', 'b-high.m3u8')),
    '/b/b-low.m3u8': playlist(media('b-low-7.ts', 'b-low.ts')),
    '/b/b-high.m3u8': playlist(media('b-high-7.ts', 'b-high.ts')),
    '/a/low/a-low.ts': { kind: 'file', body: Buffer.from('primary low'), contentType: 'video/mp2t' },
    '/a/high/a-high.ts': { kind: 'file', body: Buffer.from('primary high'), contentType: 'video/mp2t' },
    '/b/b-low.ts': { kind: 'file', body: Buffer.from('backup low'), contentType: 'video/mp2t' },
    '/b/b-high.ts': { kind: 'file', body: Buffer.from('backup high'), contentType: 'video/mp2t' },
    '/b/b-low-7.ts': { kind: 'file', body: Buffer.from('backup low 7'), contentType: 'video/mp2t' },
    '/b/b-high-7.ts': { kind: 'file', body: Buffer.from('backup high 7'), contentType: 'video/mp2t' },
  });
}

/** The player's view: the master once, then its two variant URLs. */
async function tuneIn(proxy: RunningProxy, origin: Origin): Promise<{ id: string; low: string; high: string }> {
  const created = await createHlsStream(proxy, origin.url('/a/master.m3u8'), { failover_urls: [origin.url('/b/master.m3u8')] });
  const masterUrl = proxyUrl(proxy, created.playlist_url);
  const m = await get(masterUrl);
  assert.equal(m.status, 200);
  const [low, high] = playlistUris(m.text);
  assert.ok(low && high);
  return { id: created.stream_id, low: proxyUrl(proxy, low, masterUrl), high: proxyUrl(proxy, high, masterUrl) };
}

/** Reloads a variant and follows its newest segment: the bytes say which origin and which variant answered. */
async function play(proxy: RunningProxy, variantUrl: string): Promise<string> {
  const v = await get(variantUrl);
  assert.equal(v.status, 200, v.text);
  assert.match(v.text, /#EXT-X-MEDIA-SEQUENCE:7/);
  const segment = playlistUris(v.text).at(-1);
  const s = await get(proxyUrl(proxy, segment ?? '', variantUrl));
  assert.equal(s.status, 200);
  return s.text;
}

test('§5.3 a failing variant is served from the same variant of the next URL, at the URL the player already has', async (t) => {
  const origin = await twoOrigins(t);
  const proxy = await startProxy(t);
  const { id, low, high } = await tuneIn(proxy, origin);
  assert.equal(await play(proxy, high), 'primary high');
  const before = playlistUris((await get(high)).text);

  origin.set('/a/high/index.m3u8', { kind: 'status', status: 503 });
  assert.equal(await play(proxy, high), 'backup high', 'the second variant maps to the second variant');
  const after = playlistUris((await get(high)).text);
  assert.equal(after[0], before[0], 'media sequence 7 keeps its URI across the failover (hls.js matches them)');
  assert.notEqual(after[1], undefined);
  const stat = (await api(proxy.base, 'GET', `/streams/${id}`)).body as { stream: { current_url: string; failover_count: number } };
  assert.equal(stat.stream.current_url, origin.url('/b/master.m3u8'));
  assert.equal(stat.stream.failover_count, 1);

  // The stream moved: the other variant follows it too, although its primary copy still works.
  const primaryLow = origin.hits('/a/low/index.m3u8').length;
  assert.equal(await play(proxy, low), 'backup low');
  assert.equal(origin.hits('/a/low/index.m3u8').length, primaryLow, 'no request to the primary for a moved variant');
  // And later reloads go straight to the backup's variant.
  const backupMasters = origin.hits('/b/master.m3u8').length;
  assert.equal(await play(proxy, high), 'backup high');
  assert.equal(origin.hits('/b/master.m3u8').length, backupMasters, 'the replacement is remembered');
});

test('§3.2 §5.3 a manual failover moves HLS players at their next variant reload', async (t) => {
  const origin = await twoOrigins(t);
  const proxy = await startProxy(t);
  const { id, low } = await tuneIn(proxy, origin);
  assert.equal(await play(proxy, low), 'primary low');
  const moved = await api(proxy.base, 'POST', `/streams/${id}/failover`);
  assert.equal(moved.status, 200);
  assert.equal(await play(proxy, low), 'backup low');
  // Back to the primary, the ring wraps: the same URL follows again.
  assert.equal((await api(proxy.base, 'POST', `/streams/${id}/failover`)).status, 200);
  assert.equal(await play(proxy, low), 'primary low');
});

test('§5.3 a manual failover to a master that answers and then stalls: the variant reload is answered in bounded time', { timeout: 20_000 }, async (t) => {
  const origin = await twoOrigins(t);
  let stalled = 0;
  origin.set('/b/master.m3u8', {
    kind: 'handler',
    handle(req, res) {
      // Headers, then nothing: the proxy's read of this master must give up by itself.
      stalled++;
      req.socket.once('close', () => stalled--);
      res.writeHead(200, { 'content-type': MPEGURL });
      res.flushHeaders();
    },
  });
  const proxy = await startProxy(t, { readTimeoutMs: 1_000 });
  const { id, low } = await tuneIn(proxy, origin);
  assert.equal((await api(proxy.base, 'POST', `/streams/${id}/failover`)).status, 200);
  // Before, this reload waited for the stalled master for good, holding its socket.
  const v = await get(low);
  assert.ok(v.status === 200 || v.status === 502 || v.status === 504, `answered: ${v.status}`);
  await waitFor(() => stalled === 0, 3_000, 'the stalled master socket closed');
});

test('§5.2 §9 when the variant fails everywhere the player gets a 502 JSON, and the stream stays where it was', async (t) => {
  const origin = await twoOrigins(t);
  const proxy = await startProxy(t);
  const { id, low } = await tuneIn(proxy, origin);
  origin.set('/a/low/index.m3u8', { kind: 'status', status: 500 });
  origin.set('/b/b-low.m3u8', { kind: 'status', status: 500 });
  assertJsonError(await get(low), 502, 'UPSTREAM_STATUS');
  const stat = (await api(proxy.base, 'GET', `/streams/${id}`)).body as { stream: { current_failover_index: number } };
  assert.equal(stat.stream.current_failover_index, 0);
  assert.equal(proxy.app.connections.count(), 0, 'no connection left behind');
});

test('§3.1 §5.3 a resolver-only stream: a failing variant follows the master the failover resolver names', async (t) => {
  const origin = await twoOrigins(t);
  const resolver = await startResolver(t, { kind: 'next', url: origin.url('/b/master.m3u8') });
  const proxy = await startProxy(t);
  const created = await createHlsStream(proxy, origin.url('/a/master.m3u8'), { failover_resolver_url: resolver.url });
  const masterUrl = proxyUrl(proxy, created.playlist_url);
  const m = await get(masterUrl);
  const [low] = playlistUris(m.text);
  const lowUrl = proxyUrl(proxy, low ?? '', masterUrl);
  assert.equal(await play(proxy, lowUrl), 'primary low');

  origin.set('/a/master.m3u8', { kind: 'status', status: 503 });
  origin.set('/a/low/index.m3u8', { kind: 'status', status: 503 });
  assert.equal(await play(proxy, lowUrl), 'backup low', 'the same variant of the resolver\'s master');
  assert.equal(resolver.questions[0]?.current_url, origin.url('/a/master.m3u8'));
  const stat = (await api(proxy.base, 'GET', `/streams/${created.stream_id}`)).body as { stream: { current_url: string; failover_attempts: number } };
  assert.equal(stat.stream.current_url, origin.url('/b/master.m3u8'));
  assert.equal(stat.stream.failover_attempts, 1);
});
