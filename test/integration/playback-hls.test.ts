// HLS playback against a real origin (SPEC §5.2, §5.4): byte-exact rewriting of every URI (RFC 8216 §4.3), following
// rewritten URIs back to the origin's bytes, failover, compression, redirects, LL-HLS, TS behind a playlist URL.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { createHlsStream, get, m3u8, matchRewritten, playlistRef as p, proxyUrl, segmentRef as s } from '../helpers/hls.ts';
import { startOrigin, type Behaviour } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { startProxy } from '../helpers/start-proxy.ts';

const MPEGURL = 'application/vnd.apple.mpegurl';
const playlist = (body: string, headers: Record<string, string> = {}): Behaviour => ({ kind: 'file', body: Buffer.from(body), contentType: MPEGURL, headers });
const media = (size: number, contentType = 'video/mp2t'): Behaviour => ({ kind: 'file', body: randomBytes(size), contentType });
const bodyOf = (b: Behaviour | undefined): Buffer => (b && b.kind === 'file' ? b.body : Buffer.alloc(0));

test('§5.2 RFC 8216 §4.3.4 master playlist: every URI becomes an opaque proxy URL, every other byte stays', async (t) => {
  const origin = await startOrigin(t);
  // BOM, CRLF and LF mixed, a comment, a blank line, unknown tags, a quoted comma, a variant URI without .m3u8 (the
  // tag decides its kind), an absolute URI, and no final newline.
  const master = m3u8`\uFEFF#EXTM3U\r\n#EXT-X-VERSION:7\r\n## a comment, kept\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-SESSION-KEY:METHOD=AES-128,URI="${s('keys/session.key')}",IV=0x1\n#EXT-X-SESSION-DATA:DATA-ID="com.example.lyrics",URI="${s('lyrics.json')}"\n#EXT-X-SESSION-DATA:DATA-ID="com.example.title",VALUE="Title, with comma"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="${p('audio/en.m3u8')}"\n#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"\n\n#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud",CLOSED-CAPTIONS="cc"\r\n${p('low/index.m3u8')}\r\n#EXT-X-STREAM-INF:BANDWIDTH=2560000,AUDIO="aud"\n${p(`${origin.base}/hi/chunklist`)}\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI="${p('low/iframe.m3u8')}"\n#EXT-X-FUTURE-TAG:FOO=bar\n#EXT-X-CUSTOM-END`;
  const variant = m3u8`#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.006,\n${s('s1.ts')}\n#EXT-X-ENDLIST\n`;
  const s1 = media(3000);
  origin.set('/tv/master.m3u8', playlist(master.body));
  for (const path of ['/tv/low/index.m3u8', '/hi/chunklist', '/tv/low/iframe.m3u8', '/tv/audio/en.m3u8']) origin.set(path, playlist(variant.body));
  origin.set('/tv/low/s1.ts', s1);
  const proxy = await startProxy(t);
  const st = await createHlsStream(proxy, origin.url('/tv/master.m3u8'));
  assert.equal(st.playlist_url, `/hls/${st.stream_id}/playlist.m3u8`);

  const r = await get(proxyUrl(proxy, st.playlist_url));
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], MPEGURL);
  assert.equal(r.headers['cache-control'], 'no-cache');
  assert.equal(r.headers['access-control-allow-origin'], '*');
  assert.equal(r.headers['x-stream-id'], st.stream_id);
  const clientId = String(r.headers['x-client-id']);
  assert.match(clientId, /^client_[0-9a-f]{16}$/);
  const [sessionKey, lyrics, audio, low, hi, iframe] = matchRewritten(r.text, master, '', st.stream_id);

  // Each playlist URI opens the variant, rewritten against its own URL, for the same client.
  for (const uri of [audio, low, hi, iframe]) {
    const v = await get(proxyUrl(proxy, uri ?? ''));
    assert.equal(v.status, 200, v.text);
    assert.equal(v.headers['content-type'], MPEGURL);
    assert.equal(v.headers['cache-control'], 'no-cache');
    assert.equal(v.headers['x-stream-id'], st.stream_id);
    assert.equal(v.headers['x-client-id'], clientId);
    matchRewritten(v.text, variant, '', st.stream_id);
  }
  const lowText = (await get(proxyUrl(proxy, low ?? ''))).text;
  const [seg] = matchRewritten(lowText, variant, '', st.stream_id);
  const segment = await get(proxyUrl(proxy, seg ?? ''));
  assert.equal(segment.status, 200);
  assert.ok(segment.body.equals(bodyOf(s1)), 'the variant resolved s1.ts against /tv/low/');
  // Non-playlist URIs of the master are segment URLs: the origin 404s on them, which is a 502, not a playlist.
  assert.equal((await get(proxyUrl(proxy, sessionKey ?? ''))).status, 502);
  assert.equal((await get(proxyUrl(proxy, lyrics ?? ''))).status, 502);
});

test('§5.2 RFC 8216 §4.3.2 media playlist: every rewritten URI returns exactly the bytes the origin has for it', async (t) => {
  const origin = await startOrigin(t);
  const rawQueries: string[] = [];
  const q = randomBytes(777);
  const tpl = m3u8`#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:4
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0
#EXT-X-PART-INF:PART-TARGET=0.5
#EXT-X-MAP:URI="${s('init.mp4')}"
#EXT-X-KEY:METHOD=AES-128,URI="${s('../keys/k1.key')}",IV=0x00000000000000000000000000000001
#EXTINF:4.0,
${s('seg.ts')}
#EXT-X-KEY:METHOD=NONE
#EXTINF:4.0,
${s('../a/b.ts')}
#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://asset-1",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"
#EXT-X-KEY:METHOD=AES-128,URI="data:text/plain;base64,AAECAwQFBgcICQoLDA0ODw=="
#EXTINF:4.0,a title with spaces
${s('/root.ts')}
#EXTINF:4.0,
${s(`//127.0.0.1:${origin.port}/x.ts`)}
#EXTINF:4.0,
${s(`${origin.base}/abs/y.ts`)}
#EXTINF:4.0,
${s('q.ts?sig=a%2Fb%3D&n=1')}
#EXT-X-BYTERANGE:1000@0
#EXTINF:4.0,
${s('range.mp4')}
#EXT-X-BYTERANGE:500@1000
#EXTINF:4.0,
${s('range.mp4')}
#EXT-X-PART:DURATION=0.5,URI="${s('part1.m4s')}",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${s('part2.m4s')}"
#EXT-X-RENDITION-REPORT:URI="${p('../other/index.m3u8')}",LAST-MSN=10,LAST-PART=1
`;
  const files: Record<string, Behaviour> = {
    '/live/chan/init.mp4': media(900, 'video/mp4'),
    '/live/keys/k1.key': media(16, 'application/octet-stream'),
    '/live/chan/seg.ts': media(40_000),
    '/live/a/b.ts': media(1234),
    '/root.ts': media(2000),
    '/x.ts': media(188),
    '/abs/y.ts': media(5000),
    '/live/chan/range.mp4': media(4000, 'video/mp4'),
    '/live/chan/part1.m4s': media(600, 'video/iso.segment'),
    '/live/chan/part2.m4s': media(601, 'video/iso.segment'),
  };
  for (const [path, b] of Object.entries(files)) origin.set(path, b);
  origin.set('/live/chan/index.m3u8', playlist(tpl.body));
  origin.set('/live/other/index.m3u8', playlist('#EXTM3U\n#EXT-X-ENDLIST\n'));
  origin.set('/live/chan/q.ts', {
    kind: 'handler',
    handle(req, res) {
      rawQueries.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(q.length) });
      res.end(q);
    },
  });
  const proxy = await startProxy(t);
  const st = await createHlsStream(proxy, origin.url('/live/chan/index.m3u8'));
  const r = await get(proxyUrl(proxy, st.playlist_url));
  assert.equal(r.status, 200);
  const urls = matchRewritten(r.text, tpl, '', st.stream_id);

  const ranges = ['bytes=0-999', 'bytes=1000-1499'];
  for (const [i, mark] of tpl.marks.entries()) {
    const uri = proxyUrl(proxy, urls[i] ?? '');
    if (mark.kind === 'p') {
      const v = await get(uri);
      assert.equal(v.status, 200);
      assert.equal(v.text, '#EXTM3U\n#EXT-X-ENDLIST\n', 'the rendition report resolved ../other/ against /live/chan/');
      continue;
    }
    const path = new URL(mark.ref, origin.url('/live/chan/index.m3u8')).pathname;
    if (path === '/live/chan/q.ts') {
      const got = await get(uri);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(q));
      assert.equal(rawQueries.at(-1), '/live/chan/q.ts?sig=a%2Fb%3D&n=1', 'the query reaches the origin as the playlist had it');
      continue;
    }
    const b = files[path];
    assert.ok(b && b.kind === 'file', `no origin file for ${mark.ref}`);
    if (path === '/live/chan/range.mp4') {
      // §4.3.2.2 EXT-X-BYTERANGE: the player asks for the sub-range; the proxy forwards Range and mirrors 206.
      const range = ranges.shift() ?? '';
      const got = await get(uri, { range });
      const [start, end] = range.slice(6).split('-').map(Number) as [number, number];
      assert.equal(got.status, 206);
      assert.equal(got.headers['content-range'], `bytes ${start}-${end}/${b.body.length}`);
      assert.equal(got.headers['content-length'], String(end - start + 1));
      assert.equal(origin.lastRequest(path).headers.range, range);
      assert.ok(got.body.equals(b.body.subarray(start, end + 1)), `${mark.ref} ${range}`);
      continue;
    }
    const got = await get(uri);
    assert.equal(got.status, 200, `${mark.ref}: ${got.text.slice(0, 200)}`);
    assert.equal(got.headers['content-type'], b.contentType, `${mark.ref} content-type mirrored`);
    assert.equal(got.headers['content-length'], String(b.body.length));
    assert.ok(got.body.equals(b.body), `${mark.ref}: the origin's bytes`);
  }

  // HEAD on a segment URL: the same status and headers, no body.
  const head = await get(proxyUrl(proxy, urls[2] ?? ''), {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '40000');
  assert.equal(head.headers['content-type'], 'video/mp2t');
  assert.equal(head.body.length, 0);
});

test('§5.2 PUBLIC_URL makes rewritten URIs absolute on it; without it they are relative and resolve under ROOT_PATH', async (t) => {
  const seg = randomBytes(1500);
  const tpl = m3u8`#EXTM3U\n#EXTINF:2,\n${s('seg.ts')}\n#EXT-X-STREAM-INF:BANDWIDTH=1\n${p('v.m3u8')}\n`;
  const origin = await startOrigin(t, { '/pl/index.m3u8': playlist(tpl.body), '/pl/seg.ts': { kind: 'file', body: seg } });

  const pub = await startProxy(t, { publicUrl: 'http://cdn.example:9000' });
  const a = await createHlsStream(pub, origin.url('/pl/index.m3u8'));
  const [segA] = matchRewritten((await get(proxyUrl(pub, a.playlist_url))).text, tpl, 'http://cdn.example:9000', a.stream_id);
  const viaPub = await get(proxyUrl(pub, (segA ?? '').replace('http://cdn.example:9000', '')));
  assert.ok(viaPub.body.equals(seg));

  const rooted = await startProxy(t, { rootPath: '/m3u-proxy' });
  const b = await createHlsStream(rooted, origin.url('/pl/index.m3u8'));
  assert.equal(b.playlist_url, `/m3u-proxy/hls/${b.stream_id}/playlist.m3u8`);
  const [segB] = matchRewritten((await get(proxyUrl(rooted, b.playlist_url))).text, tpl, '/m3u-proxy', b.stream_id);
  assert.ok((await get(proxyUrl(rooted, segB ?? ''))).body.equals(seg));
});

test('§5.2 §5.3 playlist failover: primary 500, the failover URL serves the playlist, rewritten against its own URL', async (t) => {
  const backupSeg = randomBytes(2222);
  const tpl = m3u8`#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n${s('seg.ts')}\n`;
  const origin = await startOrigin(t, {
    '/primary/index.m3u8': { kind: 'status', status: 500 },
    '/backup/index.m3u8': playlist(tpl.body),
    '/backup/seg.ts': { kind: 'file', body: backupSeg },
  });
  const proxy = await startProxy(t);
  const st = await createHlsStream(proxy, origin.url('/primary/index.m3u8'), { failover_urls: [origin.url('/backup/index.m3u8')] });
  const r = await get(proxyUrl(proxy, st.playlist_url));
  assert.equal(r.status, 200, r.text);
  const [seg] = matchRewritten(r.text, tpl, '', st.stream_id);
  assert.ok((await get(proxyUrl(proxy, seg ?? ''))).body.equals(backupSeg));
  assert.ok(origin.hits('/primary/index.m3u8').length >= 1);
  const stat = (await get(`${proxy.base}/streams/${st.stream_id}`)).json() as { stream: { current_url: string } };
  assert.equal(stat.stream.current_url, origin.url('/backup/index.m3u8'), '§5.3 a working failover becomes current_url');
});

test('§5.2 gzip, deflate and br compressed playlists are decoded and rewritten', async (t) => {
  const tpl = m3u8`#EXTM3U\r\n#EXTINF:2,\r\n${s('seg.ts')}\r\n#EXT-X-ENDLIST\r\n`;
  const encoders = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync } as const;
  const routes: Record<string, Behaviour> = {};
  for (const [encoding, encode] of Object.entries(encoders)) {
    const compressed = encode(Buffer.from(tpl.body));
    routes[`/${encoding}/index.m3u8`] = {
      kind: 'handler',
      handle(_req, res) {
        res.writeHead(200, { 'content-type': MPEGURL, 'content-encoding': encoding, 'content-length': String(compressed.length) });
        res.end(compressed);
      },
    };
    routes[`/${encoding}/seg.ts`] = { kind: 'file', body: Buffer.from(`segment of ${encoding}`) };
  }
  const origin = await startOrigin(t, routes);
  const proxy = await startProxy(t);
  for (const encoding of Object.keys(encoders)) {
    const st = await createHlsStream(proxy, origin.url(`/${encoding}/index.m3u8`));
    const r = await get(proxyUrl(proxy, st.playlist_url));
    assert.equal(r.status, 200, `${encoding}: ${r.text.slice(0, 200)}`);
    assert.equal(r.headers['content-encoding'], undefined, `${encoding}: the player gets the decoded playlist`);
    const [seg] = matchRewritten(r.text, tpl, '', st.stream_id);
    assert.equal((await get(proxyUrl(proxy, seg ?? ''))).text, `segment of ${encoding}`);
  }
});

test('§5.2 redirect: relative URIs resolve against the final URL of the playlist', async (t) => {
  const tpl = m3u8`#EXTM3U\n#EXTINF:2,\n${s('seg.ts')}\n#EXTINF:2,\n${s('../up.ts')}\n`;
  const origin = await startOrigin(t, {
    '/old/index.m3u8': { kind: 'redirect', location: '/new/dir/index.m3u8' },
    '/new/dir/index.m3u8': playlist(tpl.body),
    '/new/dir/seg.ts': { kind: 'file', body: Buffer.from('redirected seg') },
    '/new/up.ts': { kind: 'file', body: Buffer.from('redirected up') },
    '/old/seg.ts': { kind: 'file', body: Buffer.from('WRONG: resolved against the first URL') },
    '/up.ts': { kind: 'file', body: Buffer.from('WRONG: resolved against the first URL') },
  });
  const proxy = await startProxy(t);
  const st = await createHlsStream(proxy, origin.url('/old/index.m3u8'));
  const r = await get(proxyUrl(proxy, st.playlist_url));
  assert.equal(r.status, 200, r.text);
  const [seg, up] = matchRewritten(r.text, tpl, '', st.stream_id);
  assert.equal((await get(proxyUrl(proxy, seg ?? ''))).text, 'redirected seg');
  assert.equal((await get(proxyUrl(proxy, up ?? ''))).text, 'redirected up');
});

test('§5.2 LL-HLS: _HLS_msn, _HLS_part, _HLS_skip reach the origin; client_id, username, api_token do not', async (t) => {
  const seen: Record<string, URLSearchParams[]> = { '/ll/index.m3u8': [], '/ll/other.m3u8': [] };
  const tpl = m3u8`#EXTM3U\n#EXT-X-PART:DURATION=0.5,URI="${s('p1.m4s')}"\n#EXT-X-RENDITION-REPORT:URI="${p('other.m3u8')}",LAST-MSN=5\n`;
  const answer = (path: string, body: string): Behaviour => ({
    kind: 'handler',
    handle(req, res) {
      seen[path]?.push(new URL(req.url ?? '/', 'http://x').searchParams);
      res.writeHead(200, { 'content-type': MPEGURL });
      res.end(body);
    },
  });
  const origin = await startOrigin(t, { '/ll/index.m3u8': answer('/ll/index.m3u8', tpl.body), '/ll/other.m3u8': answer('/ll/other.m3u8', '#EXTM3U\n') });
  const proxy = await startProxy(t);
  const st = await createHlsStream(proxy, origin.url('/ll/index.m3u8?chan=7'));
  const player = '&client_id=viewer1&username=bob&api_token=nope';
  const r = await get(proxyUrl(proxy, `${st.playlist_url}?_HLS_msn=5&_HLS_part=2&_HLS_skip=YES${player}`));
  assert.equal(r.status, 200, r.text);
  const q1 = seen['/ll/index.m3u8']?.at(-1);
  assert.ok(q1);
  assert.deepEqual([q1.get('chan'), q1.get('_HLS_msn'), q1.get('_HLS_part'), q1.get('_HLS_skip')], ['7', '5', '2', 'YES']);
  for (const name of ['client_id', 'username', 'api_token']) assert.equal(q1.has(name), false, `${name} stays at the proxy`);

  const [, report] = matchRewritten(r.text, tpl, '', st.stream_id);
  const v = await get(proxyUrl(proxy, `${report}?_HLS_msn=6&_HLS_part=0${player}`));
  assert.equal(v.status, 200, v.text);
  const q2 = seen['/ll/other.m3u8']?.at(-1);
  assert.ok(q2);
  assert.deepEqual([q2.get('_HLS_msn'), q2.get('_HLS_part')], ['6', '0']);
  for (const name of ['client_id', 'username', 'api_token']) assert.equal(q2.has(name), false, `${name} stays at the proxy`);
});

test('§5.2 a playlist URL that answers MPEG-TS is served as a continuous stream, not buffered', async (t) => {
  // An endless live origin: a proxy that waited for the end before answering would never answer.
  const origin = await startOrigin(t, { '/channel/42': { kind: 'live', fill: 0x47, contentType: 'video/mp2t' } });
  const proxy = await startProxy(t);
  const st = await createHlsStream(proxy, origin.url('/channel/42'));
  assert.equal(st.stream_type, 'hls');
  const player = await openPlayer(t, proxyUrl(proxy, st.playlist_url));
  assert.equal(player.res.statusCode, 200);
  assert.equal(player.res.headers['content-type'], 'video/mp2t');
  await player.waitBytes(64 * 1024);
  assert.ok(player.body().every((b) => b === 0x47), "the origin's bytes, unchanged");
  const upstream = origin.lastRequest('/channel/42');
  player.leave();
  await upstream.socketClosed;
});

test('§5.2 a playlist line longer than 64 KiB: 502 JSON, and the proxy keeps serving', async (t) => {
  const ok = m3u8`#EXTM3U\n#EXTINF:2,\n${s('seg.ts')}\n`;
  const origin = await startOrigin(t, {
    '/long.m3u8': playlist('#EXTM3U,' + 'x'.repeat(70 * 1024) + '\n#EXTINF:2,\nseg.ts\n'),
    '/ok.m3u8': playlist(ok.body),
  });
  const proxy = await startProxy(t);
  const bad = await createHlsStream(proxy, origin.url('/long.m3u8'));
  const r = await get(proxyUrl(proxy, bad.playlist_url));
  assert.equal(r.status, 502, r.text.slice(0, 200));
  assert.match(String(r.headers['content-type']), /json/);
  assert.equal(typeof r.json().code, 'string');
  const good = await createHlsStream(proxy, origin.url('/ok.m3u8'));
  const again = await get(proxyUrl(proxy, good.playlist_url));
  assert.equal(again.status, 200);
  matchRewritten(again.text, ok, '', good.stream_id);
});

test('§5.2 a 20,000-segment VOD playlist is served completely', async (t) => {
  const lines = ['#EXTM3U', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-TARGETDURATION:6'];
  for (let i = 0; i < 20_000; i++) lines.push('#EXTINF:6.000,', `seg/${i}.ts`);
  lines.push('#EXT-X-ENDLIST', '');
  const last = randomBytes(3000);
  const origin = await startOrigin(t, { '/vod/index.m3u8': playlist(lines.join('\n')), '/vod/seg/19999.ts': { kind: 'file', body: last } });
  const proxy = await startProxy(t);
  const st = await createHlsStream(proxy, origin.url('/vod/index.m3u8'));
  const r = await get(proxyUrl(proxy, st.playlist_url));
  assert.equal(r.status, 200);
  const out = r.text.split('\n');
  const uri = /^s\/[A-Za-z0-9_-]+\.ts$/;
  const uris = out.filter((l) => uri.test(l)).map((l) => `/hls/${st.stream_id}/${l}`);
  assert.equal(uris.length, 20_000);
  assert.equal(out.filter((l) => l === '#EXTINF:6.000,').length, 20_000);
  assert.ok(r.text.endsWith('\n#EXT-X-ENDLIST\n'));
  assert.equal(out.length, lines.length);
  assert.ok((await get(proxyUrl(proxy, uris.at(-1) ?? ''))).body.equals(last));
});

test('§5.2 OPTIONS preflight on a playlist is answered with CORS headers', async (t) => {
  const origin = await startOrigin(t, { '/a/index.m3u8': playlist('#EXTM3U\n') });
  const proxy = await startProxy(t);
  const st = await createHlsStream(proxy, origin.url('/a/index.m3u8'));
  const r = await get(proxyUrl(proxy, st.playlist_url), { origin: 'http://player.example', 'access-control-request-method': 'GET' }, 'OPTIONS');
  assert.ok(r.status === 200 || r.status === 204, `status ${r.status}`);
  assert.equal(r.headers['access-control-allow-origin'], '*');
  assert.equal(origin.hits('/a/index.m3u8').length, 0, 'a preflight does not fetch the playlist');
});
