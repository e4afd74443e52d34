// Real playback of what origins do that plain HLS tests miss (issues 12.1, 12.3): ffmpeg plays, through the proxy, a
// master and media playlist built on EXT-X-DEFINE (NAME/VALUE, QUERYPARAM, IMPORT), whose segments the origin gzips
// although the proxy asked for identity.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { playCleanly, requireFfmpeg } from '../helpers/ffmpeg.ts';
import { encodeHls } from '../helpers/hls-fixtures.ts';
import { type Behaviour, startOrigin } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const MPEGURL = 'application/vnd.apple.mpegurl';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-proxy-e2e-define-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('rfc8216bis §4.4.2.3 ffmpeg plays a DEFINE master + media playlist through the proxy, with gzipped segments', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const media = await encodeHls(t, join(tempDir(t), 'v0'), { seconds: 3 });
  // The master takes the provider token from its own URL (QUERYPARAM) and names the variant's directory (NAME/VALUE).
  const master = ['#EXTM3U', '#EXT-X-VERSION:8', '#EXT-X-DEFINE:QUERYPARAM="k"', '#EXT-X-DEFINE:NAME="dir",VALUE="v0"',
    '#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=320x240', '{$dir}/index.m3u8?k={$k}', ''].join('\n');
  // The media playlist imports the token from the master and builds every segment URI from variables.
  const lines = ['#EXTM3U', '#EXT-X-VERSION:8', `#EXT-X-TARGETDURATION:${media.targetDuration}`, '#EXT-X-DEFINE:IMPORT="k"',
    '#EXT-X-DEFINE:NAME="prefix",VALUE="seg"', '#EXT-X-PLAYLIST-TYPE:VOD'];
  for (const seg of media.segments) lines.push(`#EXTINF:${seg.duration.toFixed(6)},`, `${seg.name.replace(/^seg/, '{$prefix}')}?k={$k}`);
  lines.push('#EXT-X-ENDLIST', '');

  // Every origin answer needs the token: a URI with the {$k} text still in it gets a 403.
  const guarded = (body: Buffer, type: string, gzip = false): Behaviour => ({
    kind: 'handler',
    handle(req, res) {
      if (new URL(req.url ?? '/', 'http://o').searchParams.get('k') !== 's3cret') {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end('token required');
        return;
      }
      const out = gzip ? gzipSync(body) : body;
      res.writeHead(200, { 'content-type': type, 'content-length': String(out.length), ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
      res.end(out);
    },
  });
  const routes: Record<string, Behaviour> = {
    '/def/master.m3u8': guarded(Buffer.from(master), MPEGURL),
    '/def/v0/index.m3u8': guarded(Buffer.from(lines.join('\n')), MPEGURL),
  };
  for (const seg of media.segments) routes[`/def/v0/${seg.name}`] = guarded(readFileSync(join(media.dir, seg.name)), 'video/mp2t', true);
  const origin = await startOrigin(t, routes);
  const proxy = await startProxy(t);
  const created = (await api(proxy.base, 'POST', '/streams', { url: origin.url('/def/master.m3u8?k=s3cret') })).body as { stream_endpoint: string };

  await playCleanly(t, proxy.base + created.stream_endpoint);
  for (const seg of media.segments) {
    const hits = origin.hits(`/def/v0/${seg.name}`);
    assert.ok(hits.length >= 1, `ffmpeg never reached ${seg.name}`);
    assert.equal(hits[0]?.headers['accept-encoding'], 'identity', 'media is asked for uncompressed');
  }
  const refused = origin.requests.filter((r) => r.path.includes('%7B') || r.path.includes('{'));
  assert.deepEqual(refused, [], 'no URI reached the origin with a variable reference left in it');
});
