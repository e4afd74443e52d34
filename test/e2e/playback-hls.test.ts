// Real players through the proxy's HLS routes (SPEC §5.2, §5.4): ffmpeg plays ffmpeg-encoded VOD, live
// sliding-window and AES-128 HLS via /hls/{id}/playlist.m3u8 without error, every URI it is handed is a sealed
// proxy URL, and the segments (and key) that come through are the origin's bytes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { playCleanly, probeStreamTypes, requireFfmpeg } from '../helpers/ffmpeg.ts';
import { encodeHls, fileRoutes, liveWindow, playlistUris, type PlaylistUri } from '../helpers/hls-fixtures.ts';
import { type Origin, startOrigin } from '../helpers/origin.ts';
import { md5 } from '../helpers/player.ts';
import { api, startProxy, type RunningProxy } from '../helpers/start-proxy.ts';

const MASTER = [
  '#EXTM3U',
  '#EXT-X-VERSION:3',
  '#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=320x240,CODECS="avc1.42c00d,mp4a.40.2"',
  'v0/index.m3u8',
  '',
].join('\n');

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-proxy-e2e-hls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Registers `url` and returns the stream id and the absolute proxied playlist URL. */
async function createHlsStream(proxy: RunningProxy, url: string): Promise<{ id: string; playlistUrl: string }> {
  const r = await api(proxy.base, 'POST', '/streams', { url });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const body = r.body as { stream_id: string; stream_type: string; stream_endpoint: string };
  assert.equal(body.stream_type, 'hls');
  assert.equal(body.stream_endpoint, `/hls/${body.stream_id}/playlist.m3u8`);
  return { id: body.stream_id, playlistUrl: proxy.base + body.stream_endpoint };
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, `GET ${url}: ${res.status} ${body.toString().slice(0, 200)}`);
  return body;
}

/**
 * Fetches a proxied playlist and checks SPEC §5.4 on it: no origin address in clear, and every URI resolves to
 * `{base}/hls/{id}/{p|s}/{token}.{ext}` of the kind its tag calls for. Returns the text and its URIs.
 */
async function fetchProxiedPlaylist(url: string, proxy: RunningProxy, id: string, origin: Origin): Promise<{ text: string; uris: PlaylistUri[] }> {
  const res = await fetch(url);
  const text = await res.text();
  assert.equal(res.status, 200, `GET ${url}: ${res.status} ${text.slice(0, 200)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/vnd\.apple\.mpegurl/i);
  assert.ok(text.startsWith('#EXTM3U'), `not a playlist:\n${text}`);
  assert.ok(!text.includes(`127.0.0.1:${origin.port}`), `the origin's host:port is visible in the proxied playlist:\n${text}`);
  const uris = playlistUris(text, url);
  const prefix = `${proxy.base}/hls/${id}/`;
  for (const u of uris) {
    assert.ok(u.url.startsWith(prefix), `${u.tag} URI ${u.raw} does not point at ${prefix}`);
    const m = /^([ps])\/[A-Za-z0-9_-]+\.([a-z0-9]+)$/.exec(u.url.slice(prefix.length));
    assert.ok(m, `${u.tag} URI ${u.raw} is not {kind}/{token}.{ext}`);
    assert.equal(m[1], u.expectedKind, `${u.tag} URI ${u.raw}: wrong kind`);
    if (u.expectedKind === 'p') assert.equal(m[2], 'm3u8');
  }
  return { text, uris };
}

/** Lines of a playlist with their URIs blanked: what the rewrite must keep byte for byte (SPEC §5.2). */
function withoutUris(text: string): string[] {
  return text.split('\n').map((l) => (l.startsWith('#') ? l.replace(/URI="[^"]*"/, 'URI=""') : l.trim() === '' ? l : '<uri>'));
}

/** Downloads each proxied segment URI and compares it with the origin file of the same position. */
async function assertSegmentsMatch(uris: PlaylistUri[], originFiles: string[]): Promise<void> {
  assert.equal(uris.length, originFiles.length, 'one proxied URI per origin segment');
  for (const [i, u] of uris.entries()) {
    const file = originFiles[i] ?? '';
    assert.equal(md5(await download(u.url)), md5(readFileSync(file)), `segment ${i} (${file}) through the proxy differs from the origin's`);
  }
}

test("§5.2 ffmpeg plays a VOD HLS (master + variant) through the proxy; segment md5s equal the origin's", async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const dir = tempDir(t);
  const media = await encodeHls(t, join(dir, 'v0'), { seconds: 4 });
  writeFileSync(join(dir, 'master.m3u8'), MASTER);
  const origin = await startOrigin(t, fileRoutes(dir, '/vod'));
  const proxy = await startProxy(t);
  const { id, playlistUrl } = await createHlsStream(proxy, origin.url('/vod/master.m3u8'));

  await playCleanly(t, playlistUrl);
  assert.ok((await probeStreamTypes(t, playlistUrl)).includes('video'), 'ffprobe finds a video stream');
  // ffmpeg reached every segment through the variant playlist the proxy handed out.
  for (const seg of media.segments) assert.ok(origin.hits(`/vod/v0/${seg.name}`).length >= 1, `origin never served ${seg.name}`);

  const master = await fetchProxiedPlaylist(playlistUrl, proxy, id, origin);
  assert.deepEqual(withoutUris(master.text), withoutUris(MASTER), 'the master playlist is unchanged but for its URIs');
  const variants = master.uris.filter((u) => u.expectedKind === 'p');
  assert.equal(variants.length, 1);
  const variant = await fetchProxiedPlaylist(variants[0]?.url ?? '', proxy, id, origin);
  assert.deepEqual(withoutUris(variant.text), withoutUris(media.playlist), 'the variant playlist is unchanged but for its URIs');
  assert.ok(variant.text.includes('#EXT-X-ENDLIST'));
  await assertSegmentsMatch(variant.uris, media.segments.map((s) => join(media.dir, s.name)));
});

test("§5.2 ffmpeg plays a live sliding-window HLS through the proxy and follows new segments; md5s equal the origin's", async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const dir = tempDir(t);
  const media = await encodeHls(t, join(dir, 'live'), { seconds: 14 });
  const live = liveWindow(media, { windowSize: 4, advanceMs: 1_000 });
  const origin = await startOrigin(t, { ...fileRoutes(media.dir, '/live'), '/live/live.m3u8': live.behaviour });
  const proxy = await startProxy(t);
  const { id, playlistUrl } = await createHlsStream(proxy, origin.url('/live/live.m3u8'));

  // ffmpeg starts 3 segments from the live edge (live_start_index -3): 5 s of output needs segments that were
  // not yet in the window when it started, so it must reload the playlist and follow the window.
  await playCleanly(t, playlistUrl, ['-t', '5']);
  assert.ok(live.served >= 2, `the live playlist was reloaded through the proxy (served ${live.served} times)`);
  const requested = media.segments.map((s, i) => ({ i, hits: origin.hits(`/live/${s.name}`).length })).filter((s) => s.hits > 0).map((s) => s.i);
  const added = requested.filter((i) => i > live.lastIndexAtStart);
  assert.ok(added.length >= 2, `ffmpeg fetched segments added after it started (window ended at ${live.lastIndexAtStart}; fetched ${requested.join(',')})`);

  const proxied = await fetchProxiedPlaylist(playlistUrl, proxy, id, origin);
  assert.ok(!proxied.text.includes('#EXT-X-ENDLIST'), 'still live');
  const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(proxied.text)?.[1]);
  assert.ok(sequence >= 1, `the proxied window moved on (EXT-X-MEDIA-SEQUENCE ${sequence})`);
  // Segment k of the window is the origin's segment sequence+k.
  const files = proxied.uris.map((_, k) => join(media.dir, media.segments[sequence + k]?.name ?? 'missing'));
  assert.equal(proxied.uris.length, 4);
  await assertSegmentsMatch(proxied.uris, files);
});

test('§5.2 §5.4 ffmpeg decrypts an AES-128 HLS VOD through the proxy: EXT-X-KEY is proxied and the key bytes come through', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const dir = tempDir(t);
  const served = join(dir, 'aes');
  const key = randomBytes(16);
  // Key info file (ffmpeg hls muxer): the URI written into the playlist, the key file, the IV.
  writeFileSync(join(dir, 'enc.key'), key);
  writeFileSync(join(dir, 'key.info'), `enc.key\n${join(dir, 'enc.key')}\n${randomBytes(16).toString('hex')}\n`);
  const media = await encodeHls(t, served, { seconds: 3, keyInfoFile: join(dir, 'key.info') });
  writeFileSync(join(served, 'enc.key'), key);
  assert.match(media.playlist, /#EXT-X-KEY:METHOD=AES-128,URI="enc\.key"/);
  const origin = await startOrigin(t, fileRoutes(served, '/aes'));
  const proxy = await startProxy(t);
  // A media playlist registered directly, without a master.
  const { id, playlistUrl } = await createHlsStream(proxy, origin.url('/aes/index.m3u8'));

  await playCleanly(t, playlistUrl);
  assert.ok(origin.hits('/aes/enc.key').length >= 1, 'ffmpeg fetched the key through the proxy');

  const proxied = await fetchProxiedPlaylist(playlistUrl, proxy, id, origin);
  assert.deepEqual(withoutUris(proxied.text), withoutUris(media.playlist), 'the playlist is unchanged but for its URIs');
  const keys = proxied.uris.filter((u) => u.tag === '#EXT-X-KEY');
  assert.ok(keys.length >= 1, 'EXT-X-KEY URI rewritten');
  for (const k of keys) {
    assert.match(k.url, /\.key$/, 'the key URI keeps its extension');
    assert.equal(md5(await download(k.url)), md5(key), 'the key bytes come through unchanged');
  }
  // Encrypted segments are passed through as bytes: the proxy never decrypts.
  const segments = proxied.uris.filter((u) => u.tag === 'line');
  await assertSegmentsMatch(segments, media.segments.map((s) => join(served, s.name)));
});
