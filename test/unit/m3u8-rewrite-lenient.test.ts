// The rewriter on playlists outside RFC 8216 that players still read (SPEC §5.4: no provider URI may reach a
// player): lone-CR line endings, unquoted and repeated URI attributes. hls.js takes a CR as a line end, reads an
// unquoted attribute value and keeps the last of a repeated attribute; a URI it reads that was not rewritten sends
// it to the provider, credentials and all.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { createRewriteStream, rewritePlaylist } from '../../src/core/m3u8/rewrite.ts';
import type { RewriteContext } from '../../src/core/m3u8/rewrite-context.ts';

const BASE = 'https://origin.example/live/chan/index.m3u8';
const ctx: RewriteContext = { baseUrl: BASE, proxify: (kind, url) => `${kind.toUpperCase()}[${url}]` };
const rw = (body: string): string => rewritePlaylist(Buffer.from(body), ctx).toString('utf8');

async function streamed(body: Buffer, size: number): Promise<string> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) chunks.push(body.subarray(i, i + size));
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), createRewriteStream(ctx), async function* (source) {
    for await (const chunk of source) out.push(chunk as Buffer);
  });
  return Buffer.concat(out).toString('utf8');
}

test('lone-CR line endings: every URI is rewritten, every CR kept, whole or streamed byte by byte', async () => {
  const body = '#EXTM3U\r#EXTINF:4,\rhttp://prov.example/u/p/seg1.ts\r#EXTINF:4,\rseg2.ts\r';
  const want = '#EXTM3U\r#EXTINF:4,\rS[http://prov.example/u/p/seg1.ts]\r#EXTINF:4,\rS[https://origin.example/live/chan/seg2.ts]\r';
  assert.equal(rw(body), want);
  assert.equal(await streamed(Buffer.from(body), 1), want);
  assert.equal(await streamed(Buffer.from(body), 7), want);
});

test('mixed endings: a CR that ends a line before an LF line, a CRLF split across chunks, a final lone CR', async () => {
  const body = '#EXT-X-KEY:METHOD=AES-128,URI="a.key"\r#EXT-X-MAP:URI="http://prov.example/init.mp4"\n#EXTINF:4,\r\nseg.ts\r';
  const want =
    '#EXT-X-KEY:METHOD=AES-128,URI="S[https://origin.example/live/chan/a.key]"\r#EXT-X-MAP:URI="S[http://prov.example/init.mp4]"\n' +
    '#EXTINF:4,\r\nS[https://origin.example/live/chan/seg.ts]\r';
  assert.equal(rw(body), want);
  for (const size of [1, 2, 3, 5]) assert.equal(await streamed(Buffer.from(body), size), want, `chunks of ${size}`);
});

test('an unquoted URI attribute is rewritten in place', () => {
  assert.equal(
    rw('#EXT-X-KEY:METHOD=AES-128,URI=http://prov.example/key?user=u&pass=p,IV=0x1\n'),
    '#EXT-X-KEY:METHOD=AES-128,URI=S[http://prov.example/key?user=u&pass=p],IV=0x1\n',
  );
  assert.equal(rw('#EXT-X-MAP:URI=init.mp4\n'), '#EXT-X-MAP:URI=S[https://origin.example/live/chan/init.mp4]\n');
  assert.equal(rw('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI=a.m3u8\n'), '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI=P[https://origin.example/live/chan/a.m3u8]\n');
});

test('a repeated URI attribute: every one is rewritten', () => {
  assert.equal(
    rw('#EXT-X-KEY:METHOD=AES-128,URI="k1.key",URI="http://prov.example/k2.key"\n'),
    '#EXT-X-KEY:METHOD=AES-128,URI="S[https://origin.example/live/chan/k1.key]",URI="S[http://prov.example/k2.key]"\n',
  );
});
