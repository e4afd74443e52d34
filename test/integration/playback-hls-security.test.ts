// HLS playback security and upstream failures (SPEC §5.2, §5.4, §9): sealed tokens, the token-only ?url= forms,
// no origin host or credentials in what players get, and 502/504 JSON answers instead of empty 200s.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { assertJsonError, createHlsStream, get, m3u8, matchRewritten, playlistRef as p, playlistUris, proxyUrl, segmentRef as s } from '../helpers/hls.ts';
import { refusedPort, startOrigin, type Behaviour } from '../helpers/origin.ts';
import { startProxy } from '../helpers/start-proxy.ts';

const MPEGURL = 'application/vnd.apple.mpegurl';
const playlist = (body: string): Behaviour => ({ kind: 'file', body: Buffer.from(body), contentType: MPEGURL });

/** Changes one character of the token part of a proxy URL (`.../{kind}/{token}.{ext}`) to another base64url one. */
function tamper(uri: string): string {
  const m = /^(.*\/[ps]\/)([A-Za-z0-9_-]+)(\.[a-z0-9]+)$/.exec(uri);
  assert.ok(m, `not a proxy URL: ${uri}`);
  const token = m[2] ?? '';
  const i = Math.floor(token.length / 2);
  const flipped = token[i] === 'A' ? 'B' : 'A';
  return `${m[1]}${token.slice(0, i)}${flipped}${token.slice(i + 1)}${m[3]}`;
}

test('§5.4 tampered, foreign-stream, other-secret and garbage tokens: 403 BAD_TOKEN; unknown stream: 404', async (t) => {
  const tpl = m3u8`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n${p('v.m3u8')}\n#EXTINF:2,\n${s('seg.ts')}\n`;
  const origin = await startOrigin(t, {
    '/a/index.m3u8': playlist(tpl.body),
    '/a/v.m3u8': playlist('#EXTM3U\n'),
    '/a/seg.ts': { kind: 'file', body: randomBytes(100) },
    '/b/index.m3u8': playlist('#EXTM3U\n'),
  });
  const proxy = await startProxy(t);
  const a = await createHlsStream(proxy, origin.url('/a/index.m3u8'));
  const b = await createHlsStream(proxy, origin.url('/b/index.m3u8'));
  const [variant, seg] = matchRewritten((await get(proxyUrl(proxy, a.playlist_url))).text, tpl, '', a.stream_id);
  assert.equal((await get(proxyUrl(proxy, seg ?? ''))).status, 200, 'the untouched token works');
  const before = origin.requests.length;

  for (const uri of [variant ?? '', seg ?? '']) {
    assertJsonError(await get(proxyUrl(proxy, tamper(uri))), 403, 'BAD_TOKEN');
    assertJsonError(await get(proxyUrl(proxy, uri.replace(a.stream_id, b.stream_id))), 403, 'BAD_TOKEN');
  }
  for (const garbage of ['AAAA.ts', 'not-a-token.ts', `${'A'.repeat(200)}.m3u8`]) {
    assertJsonError(await get(proxyUrl(proxy, `/hls/${a.stream_id}/s/${garbage}`)), 403, 'BAD_TOKEN');
    assertJsonError(await get(proxyUrl(proxy, `/hls/${a.stream_id}/p/${garbage}`)), 403, 'BAD_TOKEN');
  }
  assert.equal(origin.requests.length, before, 'no bad token made the proxy fetch anything');

  // The same stream (same URL, same id) on a proxy with another URL_SECRET cannot open these tokens.
  const other = await startProxy(t);
  await createHlsStream(other, origin.url('/a/index.m3u8'));
  assertJsonError(await get(proxyUrl(other, seg ?? '')), 403, 'BAD_TOKEN');

  const unknown = '0123456789abcdef0123456789abcdef';
  assertJsonError(await get(proxyUrl(proxy, `/hls/${unknown}/playlist.m3u8`)), 404, 'NOT_FOUND');
  assertJsonError(await get(proxyUrl(proxy, (seg ?? '').replace(a.stream_id, unknown))), 404, 'NOT_FOUND');
});

test('§5.4 issue 14: a p/ token replayed under s/ (and s/ under p/) is 403, never the raw upstream playlist', async (t) => {
  const secretVariant = '#EXTM3U\n#EXTINF:2,\nhttp://user:pass@provider.invalid/seg.ts?token=SECRET\n';
  const tpl = m3u8`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n${p('v.m3u8')}\n#EXTINF:2,\n${s('seg.ts')}\n`;
  const origin = await startOrigin(t, {
    '/a/index.m3u8': playlist(tpl.body),
    '/a/v.m3u8': playlist(secretVariant),
    '/a/seg.ts': { kind: 'file', body: randomBytes(100) },
  });
  const proxy = await startProxy(t);
  const a = await createHlsStream(proxy, origin.url('/a/index.m3u8'));
  const [variant, seg] = matchRewritten((await get(proxyUrl(proxy, a.playlist_url))).text, tpl, '', a.stream_id);
  const swappedToSegment = (variant ?? '').replace('/p/', '/s/');
  const swappedToPlaylist = (seg ?? '').replace('/s/', '/p/');
  assert.notEqual(swappedToSegment, variant);
  const before = origin.requests.length;
  const r = await get(proxyUrl(proxy, swappedToSegment));
  assert.ok(!r.text.includes('SECRET') && !r.text.includes('provider.invalid'), 'no upstream playlist relayed raw');
  assertJsonError(r, 403, 'BAD_TOKEN');
  assertJsonError(await get(proxyUrl(proxy, swappedToPlaylist)), 403, 'BAD_TOKEN');
  assert.equal(origin.requests.length, before, 'a swapped token made the proxy fetch nothing');
  assert.equal((await get(proxyUrl(proxy, variant ?? ''))).status, 200, 'the token under its own kind works');
});

test('§5.4 issue 12: a variant keeps the same proxy URI on every fetch of the master (LL-HLS rendition reports match)', async (t) => {
  const tpl = m3u8`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n${p('v.m3u8')}\n`;
  const origin = await startOrigin(t, { '/a/index.m3u8': playlist(tpl.body), '/a/v.m3u8': playlist('#EXTM3U\n') });
  const first = await startProxy(t);
  const st = await createHlsStream(first, origin.url('/a/index.m3u8'));
  const uris = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const [variant] = matchRewritten((await get(proxyUrl(first, `${st.playlist_url}?client_id=c1`))).text, tpl, '', st.stream_id);
    uris.add(variant ?? '');
  }
  assert.equal(uris.size, 1, `one URI across fetches: ${[...uris].join(' ')}`);
  const [otherClient] = matchRewritten((await get(proxyUrl(first, `${st.playlist_url}?client_id=c2`))).text, tpl, '', st.stream_id);
  assert.ok(!uris.has(otherClient ?? ''), 'another client gets its own URI');
});

test('§5.4 the ?url= reference forms are refused with 403 when no API token is configured', async (t) => {
  const origin = await startOrigin(t, { '/a/index.m3u8': playlist('#EXTM3U\n'), '/other.m3u8': playlist('#EXTM3U\n'), '/other.ts': { kind: 'file', body: Buffer.alloc(10) } });
  const proxy = await startProxy(t);
  const st = await createHlsStream(proxy, origin.url('/a/index.m3u8'));
  for (const [route, target] of [['playlist.m3u8', '/other.m3u8'], ['segment', '/other.ts'], ['segment.ts', '/other.ts']] as const) {
    const r = await get(proxyUrl(proxy, `/hls/${st.stream_id}/${route}?url=${encodeURIComponent(origin.url(target))}`));
    assert.equal(r.status, 403, `${route}?url=: ${r.text}`);
    assert.match(String(r.headers['content-type']), /json/);
  }
  assert.equal(origin.hits('/other.m3u8').length + origin.hits('/other.ts').length, 0, 'nothing was fetched');
});

test('§5.4 with API_TOKEN the ?url= forms need the valid token; normal playback never does', async (t) => {
  const tpl = m3u8`#EXTM3U\n#EXTINF:2,\n${s('seg.ts')}\n`;
  const seg = randomBytes(999);
  const other = randomBytes(321);
  const origin = await startOrigin(t, {
    '/a/index.m3u8': playlist(tpl.body),
    '/a/seg.ts': { kind: 'file', body: seg },
    '/o/other.m3u8': playlist(tpl.body),
    '/o/seg.ts': { kind: 'file', body: other },
    '/o/other.ts': { kind: 'file', body: other, contentType: 'video/mp2t' },
  });
  const proxy = await startProxy(t, { apiToken: 'tok' });
  const st = await createHlsStream(proxy, origin.url('/a/index.m3u8'), {}, { 'x-api-token': 'tok' });

  // Playback without any token: the playlist and its segment URLs.
  const plain = await get(proxyUrl(proxy, st.playlist_url));
  assert.equal(plain.status, 200, plain.text);
  const [segUrl] = matchRewritten(plain.text, tpl, '', st.stream_id);
  assert.ok((await get(proxyUrl(proxy, segUrl ?? ''))).body.equals(seg));

  const forms = [
    [`/hls/${st.stream_id}/playlist.m3u8`, '/o/other.m3u8'],
    [`/hls/${st.stream_id}/segment`, '/o/other.ts'],
    [`/hls/${st.stream_id}/segment.ts`, '/o/other.ts'],
  ] as const;
  for (const [route, target] of forms) {
    const url = proxyUrl(proxy, `${route}?url=${encodeURIComponent(origin.url(target))}`);
    assert.equal((await get(url)).status, 403, `${route} without a token`);
    assert.equal((await get(url + '&api_token=wrong')).status, 403, `${route} with a wrong token`);
    assert.equal((await get(url, { 'x-api-token': 'wrong' })).status, 403, `${route} with a wrong header`);
    const file = proxyUrl(proxy, `${route}?url=${encodeURIComponent('file:///etc/passwd')}&api_token=tok`);
    assert.equal((await get(file)).status, 403, `${route}: only http(s) URLs`);
    for (const ok of [await get(url, { 'x-api-token': 'tok' }), await get(url + '&api_token=tok')]) {
      assert.equal(ok.status, 200, `${route} with the token: ${ok.text.slice(0, 200)}`);
      if (target.endsWith('.m3u8')) {
        assert.equal(ok.headers['content-type'], MPEGURL);
        const [u] = matchRewritten(ok.text, tpl, '', st.stream_id);
        assert.ok((await get(proxyUrl(proxy, u ?? ''))).body.equals(other), 'resolved against the ?url= playlist');
      } else assert.ok(ok.body.equals(other));
    }
  }
});

test('§5.4 §9 no playlist leaks the origin host, credentials or secrets of the origin URLs', async (t) => {
  const origin = await startOrigin(t);
  const host = `127.0.0.1:${origin.port}`;
  const cred = `http://user:pass@${host}`;
  origin.set('/m/master.m3u8', playlist(`#EXTM3U\n#EXT-X-SESSION-KEY:METHOD=AES-128,URI="${cred}/k.key?token=secret"\n#EXT-X-STREAM-INF:BANDWIDTH=1\n${cred}/v/index.m3u8?token=secret\n#EXT-X-STREAM-INF:BANDWIDTH=2\nhttp://${host}/v/index.m3u8?auth=secret\n`));
  origin.set('/v/index.m3u8', playlist(`#EXTM3U\n#EXT-X-MAP:URI="${cred}/init.mp4?token=secret"\n#EXT-X-KEY:METHOD=AES-128,URI="/key?token=secret"\n#EXTINF:2,\n${cred}/seg.ts?token=secret\n#EXTINF:2,\nseg2.ts?token=secret\n#EXT-X-PART:DURATION=1,URI="//${host}/part.m4s?token=secret"\n`));
  const proxy = await startProxy(t);
  const st = await createHlsStream(proxy, origin.url('/m/master.m3u8?token=secret'));
  const masterUrl = proxyUrl(proxy, st.playlist_url);
  const master = await get(masterUrl);
  assert.equal(master.status, 200, master.text);
  const texts: [string, string][] = [[masterUrl, master.text]];
  const variants = playlistUris(master.text).filter((u) => u.startsWith('p/'));
  assert.equal(variants.length, 2);
  // The second variant has no userinfo: whatever the proxy does with upstream credentials, this one must play.
  const variantUrl = proxyUrl(proxy, variants[1] ?? '', masterUrl);
  const variant = await get(variantUrl);
  assert.equal(variant.status, 200, variant.text);
  texts.push([variantUrl, variant.text]);
  for (const [at, text] of texts) {
    for (const leak of [host, '127.0.0.1', 'user:pass', 'pass@', 'secret']) assert.ok(!text.toLowerCase().includes(leak), `playlist contains ${leak}:\n${text}`);
    for (const uri of playlistUris(text)) {
      assert.match(new URL(uri, at).pathname, new RegExp(`^/hls/${st.stream_id}/[ps]/[A-Za-z0-9_-]+\\.[a-z0-9]+$`));
    }
  }
});

test('§5.2 §9 playlist upstream failures: 404/500 → 502 UPSTREAM_STATUS, refused → 502 UPSTREAM_FAILED, hang → 504', async (t) => {
  const origin = await startOrigin(t, {
    '/404.m3u8': { kind: 'status', status: 404 },
    '/500.m3u8': { kind: 'status', status: 500, body: 'internal error at http://127.0.0.1/secret' },
    '/hang.m3u8': { kind: 'hang' },
  });
  const closed = await refusedPort();
  const proxy = await startProxy(t, { connectTimeoutMs: 300, maxRetries: 1 });
  const cases = [
    [origin.url('/404.m3u8?token=secret'), 502, 'UPSTREAM_STATUS'],
    [origin.url('/500.m3u8'), 502, 'UPSTREAM_STATUS'],
    [`http://127.0.0.1:${closed}/live.m3u8`, 502, 'UPSTREAM_FAILED'],
    [origin.url('/hang.m3u8'), 504, 'UPSTREAM_TIMEOUT'],
  ] as const;
  for (const [url, status, code] of cases) {
    const st = await createHlsStream(proxy, url);
    const r = await get(proxyUrl(proxy, st.playlist_url));
    assertJsonError(r, status, code);
    assert.ok(!r.text.includes('secret'));
  }
});

test('§5.2 §9 segment upstream failures: 502/504 JSON, never an empty 200', async (t) => {
  const origin = await startOrigin(t);
  const closed = await refusedPort();
  const tpl = m3u8`#EXTM3U\n#EXTINF:2,\n${s('404.ts')}\n#EXTINF:2,\n${s('500.ts')}\n#EXTINF:2,\n${s(`http://127.0.0.1:${closed}/x.ts`)}\n#EXTINF:2,\n${s('hang.ts')}\n`;
  origin.set('/s/index.m3u8', playlist(tpl.body));
  origin.set('/s/404.ts', { kind: 'status', status: 404 });
  origin.set('/s/500.ts', { kind: 'status', status: 500 });
  origin.set('/s/hang.ts', { kind: 'hang' });
  const proxy = await startProxy(t, { connectTimeoutMs: 300, maxRetries: 1 });
  const st = await createHlsStream(proxy, origin.url('/s/index.m3u8'));
  const urls = matchRewritten((await get(proxyUrl(proxy, st.playlist_url))).text, tpl, '', st.stream_id);
  const expected = [[502, 'UPSTREAM_STATUS'], [502, 'UPSTREAM_STATUS'], [502, 'UPSTREAM_FAILED'], [504, 'UPSTREAM_TIMEOUT']] as const;
  for (const [i, [status, code]] of expected.entries()) {
    assertJsonError(await get(proxyUrl(proxy, urls[i] ?? '')), status, code);
  }
});
