import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import {
  createRewriteState,
  createRewriteStream,
  rewriteLine,
  rewritePlaylist,
} from '../../src/core/m3u8/rewrite.ts';
import type { RewriteContext } from '../../src/core/m3u8/rewrite-context.ts';
import { PlaylistTooLargeError, UpstreamError } from '../../src/errors.ts';

const BASE = 'https://origin.example/live/chan/index.m3u8?auth=a%2Fb';

// A visible stand-in for the token: P[...] or S[...] around the absolute upstream URL.
const ctx: RewriteContext = { baseUrl: BASE, proxify: (kind, url) => `${kind.toUpperCase()}[${url}]` };

const rw = (body: string, c: RewriteContext = ctx): string => rewritePlaylist(Buffer.from(body), c).toString('utf8');

async function stream(chunks: Buffer[], c: RewriteContext = ctx): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), createRewriteStream(c), async function* (source) {
    for await (const chunk of source) out.push(chunk as Buffer);
  });
  return Buffer.concat(out);
}

test('§4.3.2.1 the URI line after EXTINF is a segment, resolved against the base', () => {
  assert.equal(
    rw('#EXTM3U\n#EXTINF:10.0,\nseg1.ts\n'),
    '#EXTM3U\n#EXTINF:10.0,\nS[https://origin.example/live/chan/seg1.ts]\n',
  );
});

test('RFC 3986 §5.2 relative forms: path, dot segments, root, network-path, absolute, query', () => {
  const cases: Array<[string, string]> = [
    ['seg.ts', 'https://origin.example/live/chan/seg.ts'],
    ['../a/b.ts', 'https://origin.example/live/a/b.ts'],
    ['./c.ts', 'https://origin.example/live/chan/c.ts'],
    ['/root.ts', 'https://origin.example/root.ts'],
    ['//cdn.example/x.ts', 'https://cdn.example/x.ts'],
    ['http://other.example:8080/y.ts?z=1', 'http://other.example:8080/y.ts?z=1'],
    ['?only=query', 'https://origin.example/live/chan/index.m3u8?only=query'],
    ['sub/dir/seg.ts?t=1&u=2', 'https://origin.example/live/chan/sub/dir/seg.ts?t=1&u=2'],
  ];
  for (const [ref, want] of cases) assert.equal(rw(`#EXTINF:1,\n${ref}\n`), `#EXTINF:1,\nS[${want}]\n`, ref);
});

test('RFC 3986 §2.1 %XX escapes are kept exactly (never decoded, never encoded twice)', () => {
  const out = rw('#EXTINF:1,\nseg%20one.ts?sig=a%2Fb%3D%3D&x=%41\n#EXTINF:1,\n/p%2e%2Fq/s.ts?k=%25\n');
  assert.ok(out.includes('S[https://origin.example/live/chan/seg%20one.ts?sig=a%2Fb%3D%3D&x=%41]'), out);
  assert.ok(out.includes('/p%2e%2Fq/s.ts?k=%25]') || out.includes('/p.%2Fq/s.ts?k=%25]'), out);
  assert.ok(!out.includes('%2525'), out);
});

test('RFC 3986 raw non-ASCII in a URI is percent-encoded once as UTF-8', () => {
  assert.equal(rw('#EXTINF:1,\ncafé.ts\n'), '#EXTINF:1,\nS[https://origin.example/live/chan/caf%C3%A9.ts]\n');
});

test('§4.3.2.2 EXT-X-BYTERANGE lines stay, the segment URI is proxied', () => {
  const body = '#EXTM3U\n#EXT-X-VERSION:4\n#EXTINF:4,\n#EXT-X-BYTERANGE:1000@0\nmain.ts\n#EXTINF:4,\n#EXT-X-BYTERANGE:1000\nmain.ts\n';
  assert.equal(rw(body), body.replaceAll('\nmain.ts', '\nS[https://origin.example/live/chan/main.ts]'));
});

test('§4.3.2.4 EXT-X-KEY URI is proxied as a segment; IV and other attributes kept', () => {
  assert.equal(
    rw('#EXT-X-KEY:METHOD=AES-128,URI="keys/k1.bin",IV=0x00000000000000000000000000000001\n'),
    '#EXT-X-KEY:METHOD=AES-128,URI="S[https://origin.example/live/chan/keys/k1.bin]",IV=0x00000000000000000000000000000001\n',
  );
});

test('§4.3.2.4 METHOD=NONE, data: and skd:// keys are left untouched', () => {
  const body = [
    '#EXT-X-KEY:METHOD=NONE',
    '#EXT-X-KEY:METHOD=NONE,URI="ignored.bin"',
    '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://fairplay-key-id",KEYFORMAT="com.apple.streamingkeydelivery"',
    '#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="data:text/plain;base64,AAAAPHBzc2g=",KEYFORMAT="urn:uuid:edef8ba9"',
    '#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://another"',
    '',
  ].join('\n');
  assert.equal(rw(body), body);
});

test('§4.3.2.5 EXT-X-MAP URI is proxied', () => {
  assert.equal(
    rw('#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"\n'),
    '#EXT-X-MAP:URI="S[https://origin.example/live/chan/init.mp4]",BYTERANGE="720@0"\n',
  );
});

test('§4.3.4 master playlist: STREAM-INF variants, MEDIA and I-FRAME playlists are playlists', () => {
  const body = [
    '#EXTM3U',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English, stereo",LANGUAGE="en",URI="audio/en.m3u8"',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="Muxed",DEFAULT=YES',
    '#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",RESOLUTION=1280x720,AUDIO="aud"',
    'v720/prog.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=2560000',
    '',
    '# a comment between the tag and its URI',
    'https://cdn.example/v1080.php?id=7',
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI="iframe/index.m3u8"',
    '',
  ].join('\n');
  assert.equal(
    rw(body),
    body
      .replace('URI="audio/en.m3u8"', 'URI="P[https://origin.example/live/chan/audio/en.m3u8]"')
      .replace('\nv720/prog.m3u8', '\nP[https://origin.example/live/chan/v720/prog.m3u8]')
      .replace('\nhttps://cdn.example/v1080.php?id=7', '\nP[https://cdn.example/v1080.php?id=7]')
      .replace('URI="iframe/index.m3u8"', 'URI="P[https://origin.example/live/chan/iframe/index.m3u8]"'),
  );
});

test('§4.3.4.2 kind is decided by the tag, not the suffix: an .m3u8 after EXTINF is a segment', () => {
  assert.equal(rw('#EXTINF:-1,Channel\nhttp://iptv.example/1.m3u8\n'), '#EXTINF:-1,Channel\nS[http://iptv.example/1.m3u8]\n');
});

test('§4.3.4.4 EXT-X-SESSION-DATA URI is proxied as a segment; VALUE-only data is left alone', () => {
  const body = '#EXT-X-SESSION-DATA:DATA-ID="com.example.title",URI="meta/title.json"\n#EXT-X-SESSION-DATA:DATA-ID="x",VALUE="y"\n';
  assert.equal(
    rw(body),
    body.replace('URI="meta/title.json"', 'URI="S[https://origin.example/live/chan/meta/title.json]"'),
  );
});

test('§4.3.4.5 EXT-X-SESSION-KEY URI is proxied as a segment', () => {
  assert.equal(
    rw('#EXT-X-SESSION-KEY:METHOD=AES-128,URI="/k/session.key"\n'),
    '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="S[https://origin.example/k/session.key]"\n',
  );
});

test('LL-HLS (rfc8216bis §4.4.4.9, §4.4.5.3, §4.4.5.4): PART, PRELOAD-HINT, RENDITION-REPORT; SKIP untouched', () => {
  const body = [
    '#EXTM3U',
    '#EXT-X-TARGETDURATION:4',
    '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=24.0',
    '#EXT-X-PART-INF:PART-TARGET=0.33334',
    '#EXT-X-MEDIA-SEQUENCE:266',
    '#EXT-X-SKIP:SKIPPED-SEGMENTS=3',
    '#EXT-X-PART:DURATION=0.33334,URI="filePart271.0.mp4",INDEPENDENT=YES',
    '#EXTINF:4.00008,',
    'fileSequence271.mp4',
    '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart273.1.mp4"',
    '#EXT-X-RENDITION-REPORT:URI="../1M/waitForMSN.php",LAST-MSN=273,LAST-PART=2',
    '',
  ].join('\n');
  const dir = 'https://origin.example/live/chan/';
  assert.equal(
    rw(body),
    body
      .replace('URI="filePart271.0.mp4"', `URI="S[${dir}filePart271.0.mp4]"`)
      .replace('\nfileSequence271.mp4', `\nS[${dir}fileSequence271.mp4]`)
      .replace('URI="filePart273.1.mp4"', `URI="S[${dir}filePart273.1.mp4]"`)
      .replace('URI="../1M/waitForMSN.php"', 'URI="P[https://origin.example/live/1M/waitForMSN.php]"'),
  );
});

test('§4.1 unknown tags, comments, blank lines and numbers are byte-exact', () => {
  const body = '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#X-VENDOR-TAG:foo="bar",URI="not-ours"\n# comment URI="x"\n\n#EXT-X-DATERANGE:ID="a",START-DATE="2024-01-01T00:00:00.000Z"\n#EXTINF:9.97663,title, with comma\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00.000+00:00\n#EXT-X-DISCONTINUITY\n#EXT-X-ENDLIST\n';
  assert.equal(rw(body), body);
});

test('§4.1 CRLF endings and a leading BOM are kept exactly', () => {
  const body = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from('#EXTM3U\r\n#EXTINF:5,\r\nseg.ts\r\n#EXT-X-ENDLIST\r\n'),
  ]);
  const want = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from('#EXTM3U\r\n#EXTINF:5,\r\nS[https://origin.example/live/chan/seg.ts]\r\n#EXT-X-ENDLIST\r\n'),
  ]);
  assert.deepEqual(rewritePlaylist(body, ctx), want);
});

test('§4.1 a last line without newline gets none added', () => {
  assert.equal(rw('#EXTM3U\n#EXTINF:5,\nseg.ts'), '#EXTM3U\n#EXTINF:5,\nS[https://origin.example/live/chan/seg.ts]');
  assert.equal(rw('#EXTM3U\n#EXT-X-ENDLIST'), '#EXTM3U\n#EXT-X-ENDLIST');
});

test('§4.1 non-UTF-8 bytes in a title survive the rewrite untouched', () => {
  const body = Buffer.concat([Buffer.from('#EXTINF:5,Caf'), Buffer.from([0xe9]), Buffer.from('\nseg.ts\n')]);
  const out = rewritePlaylist(body, ctx);
  assert.deepEqual(out.subarray(0, 14), body.subarray(0, 14));
});

test('unparseable URIs and non-http schemes after resolution stay as they are', () => {
  const body = '#EXTINF:1,\nhttp://[bad-host/seg.ts\n#EXTINF:1,\nrtmp://media.example/live\n#EXT-X-MAP:URI="ftp://x/init.mp4"\n';
  assert.equal(rw(body), body);
  const badBase: RewriteContext = { baseUrl: 'not a url', proxify: ctx.proxify };
  assert.equal(rw('#EXTINF:1,\nseg.ts\n', badBase), '#EXTINF:1,\nseg.ts\n');
});

test('rewriteLine is pure per line and carries STREAM-INF state to the next URI only', () => {
  const state = createRewriteState();
  assert.equal(rewriteLine('#EXT-X-STREAM-INF:BANDWIDTH=1', state, ctx), '#EXT-X-STREAM-INF:BANDWIDTH=1');
  assert.equal(state.nextUriIsPlaylist, true);
  assert.equal(rewriteLine('lo.m3u8', state, ctx), 'P[https://origin.example/live/chan/lo.m3u8]');
  assert.equal(rewriteLine('seg.ts', state, ctx), 'S[https://origin.example/live/chan/seg.ts]');
  assert.equal(rewriteLine('  padded.ts ', state, ctx), '  S[https://origin.example/live/chan/padded.ts] ');
});

test('streaming: byte-by-byte input (split inside lines and UTF-8 characters) gives the same bytes as whole', async () => {
  const body = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from('#EXTM3U\r\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="日本語",URI="subs/ja.m3u8"\r\n'),
    Buffer.from('#EXT-X-STREAM-INF:BANDWIDTH=1,SUBTITLES="s"\nv/é.m3u8\n#EXTINF:1,Ünïcödé 🎬\nseg 1.ts'),
  ]);
  const whole = rewritePlaylist(body, ctx);
  assert.deepEqual(await stream([...body].map((b) => Buffer.from([b]))), whole);
  assert.deepEqual(await stream([body.subarray(0, 50), body.subarray(50)]), whole);
  assert.ok(whole.toString('utf8').includes('P[https://origin.example/live/chan/v/%C3%A9.m3u8]'));
  assert.ok(whole.toString('utf8').includes('NAME="日本語"'));
});

test('streaming: a line over 64 KiB fails the stream with UpstreamError', async () => {
  const body = Buffer.concat([Buffer.from('#EXTM3U\n'), Buffer.alloc(70_000, 0x61), Buffer.from('\n')]);
  await assert.rejects(stream([body]), (err: unknown) => err instanceof UpstreamError && err.status === 502);
  assert.throws(() => rewritePlaylist(body, ctx), UpstreamError);
});

test('a 20,000-segment VOD playlist rewritten twice gives identical output', () => {
  const lines = ['#EXTM3U', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-TARGETDURATION:6'];
  for (let i = 0; i < 20_000; i++) lines.push('#EXTINF:6.0,', `seg_${i}.ts?t=a%2F${i}`);
  lines.push('#EXT-X-ENDLIST');
  const body = Buffer.from(lines.join('\n'));
  const first = rewritePlaylist(body, ctx);
  const second = rewritePlaylist(body, ctx);
  assert.deepEqual(first, second);
  assert.ok(first.toString().includes('S[https://origin.example/live/chan/seg_19999.ts?t=a%2F19999]'));
});

test('RFC 3986 §5.2 the no-parse fast path agrees with WHATWG URL resolution', () => {
  const refs = ['a.ts', 'a.ts?x=1&y=%2F', 'A-b_c~d.m4s', 'x.ts?q=a/b?c:d@e', "it's.ts", 'a b.ts', 'a.ts?q="x"', 'a.ts?x=<y>', 'a;b=c.ts', 'a%zz.ts'];
  // Several segments: the fast path takes plain ones; dot segments (also %-encoded), empty ones and schemes go to URL.
  refs.push('seg/1.ts', '720p/a/b.ts?x=%2F', 'a..b/c.ts', 'a/./b.ts', 'a/../b.ts', 'a/%2e%2e/b.ts', 'a/%2E./b.ts', '.hidden/x.ts', 'a//b.ts', 'a:b/c.ts', 'x/y:z.ts');
  for (const ref of refs) {
    const want = new URL(ref, BASE);
    // 'a:b/c.ts' has a scheme of its own, not http(s): not ours to proxy.
    const expected = want.protocol === 'https:' ? `S[${want.href}]` : ref;
    assert.equal(rw(`#EXTINF:1,\n${ref}\n`), `#EXTINF:1,\n${expected}\n`, ref);
  }
});

test('issue 12.7: absolute URIs on the base\'s own host skip parsing only when WHATWG URL would give them back unchanged', () => {
  const bases = [BASE, 'http://127.0.0.1:8080/hls/vod.m3u8', 'https://user:pw@origin.example/x/y.m3u8'];
  const refs = [
    'https://origin.example/live/a.ts?t=1',
    'http://127.0.0.1:8080/hls/seg/1.ts',
    'https://origin.example/a/./b.ts',
    'https://origin.example/a/../b.ts',
    'https://origin.example/a/%2e%2e/b.ts',
    'https://origin.example//a.ts',
    'https://ORIGIN.example/a.ts',
    'HTTPS://origin.example/a.ts',
    'https://origin.example:443/a.ts',
    'http://127.0.0.1:80/a.ts',
    'https://origin.example/a b.ts',
    "https://origin.example/a.ts?q='x'",
    'https://origin.example/a.ts?q="x"',
    'https://origin.example/a.ts#frag',
    'https://origin.example/é.ts',
    'https://origin.example/a.ts?x=%zz&y=a/b?c',
    'https://user:pw@origin.example/a.ts',
    'https://origin.example.evil/a.ts',
    'https://origin.example/',
  ];
  for (const base of bases) {
    for (const ref of refs) {
      const want = new URL(ref, base).href;
      assert.equal(rw(`#EXTINF:1,\n${ref}\n`, { baseUrl: base, proxify: (_k, u) => `S[${u}]` }), `#EXTINF:1,\nS[${want}]\n`, `${ref} on ${base}`);
    }
  }
});

test('a proxify result with non-ASCII characters reaches the player as UTF-8: whole lines, indented lines, attributes, memo hits', () => {
  const store = new Map<string, string>();
  const memo = { get: (ref: string) => store.get(ref), set: (ref: string, uri: string) => void store.set(ref, uri) };
  const c: RewriteContext = { baseUrl: 'http://o.example/v/x.m3u8', proxify: (kind, url) => `https://prøxy.example/${kind}/${url.slice(url.lastIndexOf('/') + 1)}`, memo };
  const body = '\ufeff#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="k.key"\n#EXTINF:1,ñ\nseg.ts\n#EXTINF:1,\n  seg2.ts \r\n';
  const want = '\ufeff#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="https://prøxy.example/s/k.key"\n#EXTINF:1,ñ\nhttps://prøxy.example/s/seg.ts\n#EXTINF:1,\n  https://prøxy.example/s/seg2.ts \r\n';
  assert.equal(rw(body, c), want);
  assert.ok(store.size >= 2);
  assert.equal(rw(body, c), want, 'from the memo');
  // A first line that is a URI, after a BOM.
  assert.equal(rw('\ufeffseg.ts\n', c), '\ufeffhttps://prøxy.example/s/seg.ts\n');
});

test('a memo answers segment lines it already rewrote; playlist URIs always reach onPlaylistUri, in order', () => {
  const store = new Map<string, string>();
  let sealed = 0;
  const seen: string[] = [];
  const memo = { get: (ref: string) => store.get(ref), set: (ref: string, uri: string) => void store.set(ref, uri) };
  const c: RewriteContext = {
    baseUrl: BASE,
    proxify: (kind, url) => `${kind.toUpperCase()}${++sealed}[${url}]`,
    memo,
    onPlaylistUri: (url) => seen.push(url),
  };
  const body = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n#EXTINF:1,\nv.m3u8\n#EXT-X-KEY:METHOD=AES-128,URI="data:x,1"\n';
  const first = rw(body, c);
  assert.equal(sealed, 2, 'the same reference as playlist and as segment is two URIs');
  const second = rw(body, c);
  assert.equal(sealed, 3, 'only the playlist URI was sealed again');
  assert.equal(second.split('\n')[4], first.split('\n')[4], 'the segment line came from the memo');
  assert.deepEqual(seen, ['https://origin.example/live/chan/v.m3u8', 'https://origin.example/live/chan/v.m3u8']);
  assert.deepEqual([...store.keys()], ['v.m3u8'], 'only segments are remembered, never data: URIs');
});

// --- rfc8216bis §4.4.2.3 EXT-X-DEFINE (issue 12.3) ---

test('rfc8216bis §4.4.2.3 NAME/VALUE: {$name} is substituted in URI lines before resolving; the DEFINE line stays', () => {
  assert.equal(
    rw('#EXTM3U\n#EXT-X-DEFINE:NAME="host",VALUE="https://cdn.example/v1"\n#EXTINF:4,\n{$host}/seg{$n}.ts\n'),
    '#EXTM3U\n#EXT-X-DEFINE:NAME="host",VALUE="https://cdn.example/v1"\n#EXTINF:4,\nS[https://cdn.example/v1/seg%7B$n%7D.ts]\n',
  );
});

test('rfc8216bis §4.4.2.3 variables apply to URI attributes too (EXT-X-KEY, EXT-X-MAP, EXT-X-MEDIA)', () => {
  const out = rw(
    '#EXT-X-DEFINE:NAME="auth",VALUE="tok=abc"\n#EXT-X-KEY:METHOD=AES-128,URI="key.bin?{$auth}"\n#EXT-X-MAP:URI="init.mp4?{$auth}"\n' +
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio.m3u8?{$auth}"\n',
  );
  assert.ok(out.includes('URI="S[https://origin.example/live/chan/key.bin?tok=abc]"'), out);
  assert.ok(out.includes('URI="S[https://origin.example/live/chan/init.mp4?tok=abc]"'), out);
  assert.ok(out.includes('URI="P[https://origin.example/live/chan/audio.m3u8?tok=abc]"'), out);
});

test('rfc8216bis §4.4.2.3 QUERYPARAM takes the value from the playlist URL query (decoded); the player gets it defined empty', () => {
  const c: RewriteContext = { ...ctx, queryUrl: 'https://origin.example/live/chan/index.m3u8?token=x%2Fy&z=1' };
  // The player's URL has no `token` (hls.js fails a QUERYPARAM it cannot find), and the provider's value stays here.
  assert.equal(rw('#EXT-X-DEFINE:QUERYPARAM="token"\n#EXTINF:4,\na.ts?t={$token}\n', c), '#EXT-X-DEFINE:NAME="token",VALUE=""\n#EXTINF:4,\nS[https://origin.example/live/chan/a.ts?t=x/y]\n');
  // Without queryUrl the base URL's query is read (auth=a%2Fb in BASE).
  assert.ok(rw('#EXT-X-DEFINE:QUERYPARAM="auth"\n#EXTINF:4,\na.ts?{$auth}\n').includes('S[https://origin.example/live/chan/a.ts?a/b]'));
});

test('rfc8216bis §4.4.2.3 IMPORT takes the multivariant playlist variable; onDefine reports every definition', () => {
  const seen: Array<[string, string]> = [];
  const master = rw('#EXTM3U\n#EXT-X-DEFINE:NAME="cdn",VALUE="https://cdn.example"\n#EXT-X-STREAM-INF:BANDWIDTH=1\n{$cdn}/v.m3u8\n', {
    ...ctx,
    onDefine: (n, v) => seen.push([n, v]),
  });
  assert.ok(master.includes('P[https://cdn.example/v.m3u8]'), master);
  assert.deepEqual(seen, [['cdn', 'https://cdn.example']]);
  const media = rw('#EXTM3U\n#EXT-X-DEFINE:IMPORT="cdn"\n#EXTINF:4,\n{$cdn}/a.ts\n', { ...ctx, imports: new Map(seen) });
  assert.ok(media.includes('S[https://cdn.example/a.ts]'), media);
  const missing = rw('#EXT-X-DEFINE:IMPORT="cdn"\n#EXTINF:4,\n{$cdn}/a.ts\n');
  assert.ok(missing.includes('S[https://origin.example/live/chan/%7B$cdn%7D/a.ts]'), 'an undefined variable stays as written (and is still sealed)');
});

test('rfc8216bis §4.4.2.3 a substituted URI bypasses the memo, so a changed value is never served stale', () => {
  const store = new Map<string, string>();
  const memo = { get: (ref: string) => store.get(ref), set: (ref: string, uri: string) => void store.set(ref, uri) };
  const c = (v: string): RewriteContext => ({ ...ctx, memo, queryUrl: `https://o.example/i.m3u8?v=${v}` });
  const body = '#EXT-X-DEFINE:QUERYPARAM="v"\n#EXTINF:4,\na.ts?v={$v}\n';
  assert.ok(rw(body, c('1')).includes('a.ts?v=1'));
  assert.ok(rw(body, c('2')).includes('a.ts?v=2'));
});

// --- URI attributes beyond URI= (issue 12.5) ---

test('rfc8216bis appendix D EXT-X-DATERANGE X-ASSET-URI is a playlist, X-ASSET-LIST a segment-kind object', () => {
  const out = rw(
    '#EXT-X-DATERANGE:ID="ad1",CLASS="com.apple.hls.interstitial",START-DATE="2024-01-01T00:00:00Z",X-ASSET-URI="ads/ad1.m3u8",X-RESUME-OFFSET=0\n' +
      '#EXT-X-DATERANGE:ID="ad2",CLASS="com.apple.hls.interstitial",START-DATE="2024-01-01T00:01:00Z",X-ASSET-LIST="https://ads.example/list.json?c=1"\n',
  );
  assert.equal(
    out,
    '#EXT-X-DATERANGE:ID="ad1",CLASS="com.apple.hls.interstitial",START-DATE="2024-01-01T00:00:00Z",X-ASSET-URI="P[https://origin.example/live/chan/ads/ad1.m3u8]",X-RESUME-OFFSET=0\n' +
      '#EXT-X-DATERANGE:ID="ad2",CLASS="com.apple.hls.interstitial",START-DATE="2024-01-01T00:01:00Z",X-ASSET-LIST="S[https://ads.example/list.json?c=1]"\n',
  );
  const plain = '#EXT-X-DATERANGE:ID="s",START-DATE="2024-01-01T00:00:00Z",X-COM-EXAMPLE="keep"\n';
  assert.equal(rw(plain), plain, 'a DATERANGE without asset attributes is untouched');
});

test('rfc8216bis §4.4.6.6 EXT-X-CONTENT-STEERING SERVER-URI is proxied as an object; PATHWAY-ID stays', () => {
  assert.equal(
    rw('#EXT-X-CONTENT-STEERING:SERVER-URI="/steering?video=1",PATHWAY-ID="CDN-A"\n'),
    '#EXT-X-CONTENT-STEERING:SERVER-URI="S[https://origin.example/steering?video=1]",PATHWAY-ID="CDN-A"\n',
  );
});

test('Roku trick play: EXT-X-IMAGE-STREAM-INF URI is a playlist; EXT-X-IMAGES-ONLY tiles are segments', () => {
  assert.equal(
    rw('#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=5000,RESOLUTION=320x180,CODECS="jpeg",URI="thumbs/index.m3u8"\n'),
    '#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=5000,RESOLUTION=320x180,CODECS="jpeg",URI="P[https://origin.example/live/chan/thumbs/index.m3u8]"\n',
  );
  assert.equal(
    rw('#EXTM3U\n#EXT-X-IMAGES-ONLY\n#EXTINF:60,\n#EXT-X-TILES:RESOLUTION=640x360,LAYOUT=5x5,DURATION=2.4\nt1.jpg\n'),
    '#EXTM3U\n#EXT-X-IMAGES-ONLY\n#EXTINF:60,\n#EXT-X-TILES:RESOLUTION=640x360,LAYOUT=5x5,DURATION=2.4\nS[https://origin.example/live/chan/t1.jpg]\n',
  );
});

// --- issue 14.3: bounds of one playlist ---

test('issue 14.3 a playlist past maxLines or maxBytes fails with PLAYLIST_TOO_LARGE, streaming or whole', async () => {
  const body = Buffer.from('#EXTM3U\n' + '#EXTINF:1,\na.ts\n'.repeat(50));
  assert.throws(() => rewritePlaylist(body, ctx, { maxLines: 20 }), (e: unknown) => e instanceof PlaylistTooLargeError);
  assert.throws(() => rewritePlaylist(body, ctx, { maxBytes: 100 }), (e: unknown) => e instanceof PlaylistTooLargeError);
  assert.doesNotThrow(() => rewritePlaylist(body, ctx, { maxLines: 101, maxBytes: body.length }));
  const chunks = Array.from({ length: 1000 }, () => Buffer.from('#EXTINF:1,\nseg.ts\n'));
  await assert.rejects(
    pipeline(Readable.from(chunks), createRewriteStream(ctx, { maxLines: 500 }), async function* (source) {
      for await (const _ of source) void _;
    }),
    (e: unknown) => e instanceof PlaylistTooLargeError && e.code === 'PLAYLIST_TOO_LARGE',
  );
});
