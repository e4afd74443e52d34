// Issue 24 item 6: a segment whose upstream breaks mid-body is resumed at the byte where it broke, with a Range
// request to the same segment of the next URL when that copy has the same length (from the same URL when the stream
// has one), so the player reads one whole, exact body. A copy of another length is not spliced in.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createHlsStream, get, playlistUris, proxyUrl } from '../helpers/hls.ts';
import { startOrigin, type Behaviour, type Fault, type Origin } from '../helpers/origin.ts';
import type { RunningProxy } from '../helpers/start-proxy.ts';
import { startProxy } from '../helpers/start-proxy.ts';

const SIZE = 300_000;
const CUT = 100_000;

function body(seed: number, size = SIZE): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  b[0] = 0x47; // TS-looking, so no sniff mistakes it for text
  return b;
}

const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:4.0,\nseg0.ts\n#EXTINF:4.0,\nseg1.ts\n#EXT-X-ENDLIST\n';

async function copyOf(t: TestContext, seg1: Buffer, fault?: Fault): Promise<Origin> {
  const routes: Record<string, Behaviour> = {
    '/index.m3u8': { kind: 'file', body: Buffer.from(PLAYLIST), contentType: 'application/vnd.apple.mpegurl' },
    '/seg0.ts': { kind: 'file', body: body(0), contentType: 'video/mp2t' },
    '/seg1.ts': { kind: 'file', body: seg1, contentType: 'video/mp2t', ...(fault ? { fault } : {}) },
  };
  return startOrigin(t, routes);
}

async function segmentUrls(proxy: RunningProxy, url: string, failover: string[]): Promise<string[]> {
  const created = await createHlsStream(proxy, url, { failover_urls: failover });
  const at = proxyUrl(proxy, created.playlist_url);
  const r = await get(at);
  assert.equal(r.status, 200, r.text);
  return playlistUris(r.text).map((u) => proxyUrl(proxy, u, at));
}

test('issue 24.6: a segment reset mid-body goes on from the backup at the same byte, and the player gets it whole', async (t) => {
  const primary = await copyOf(t, body(1), { kind: 'reset', afterBytes: CUT });
  const backup = await copyOf(t, body(1));
  const proxy = await startProxy(t);
  const segments = await segmentUrls(proxy, primary.url('/index.m3u8'), [backup.url('/index.m3u8')]);
  const r = await get(segments[1] ?? '');
  assert.equal(r.status, 200);
  assert.equal(r.body.length, SIZE, 'the whole segment arrived');
  assert.ok(r.body.equals(body(1)), 'byte for byte');
  const resumed = backup.hits('/seg1.ts');
  assert.equal(resumed.length, 1, 'one resume request to the backup');
  const range = /^bytes=(\d+)-$/.exec(String(resumed[0]?.headers.range));
  assert.ok(range, `a Range request to the end: ${String(resumed[0]?.headers.range)}`);
  assert.ok(Number(range[1]) > 0 && Number(range[1]) <= CUT, `resumed where the primary broke (${range[1]})`);
});

test('issue 24.6: with one URL, a segment cut once is resumed from the same URL', async (t) => {
  const origin = await copyOf(t, body(2), { kind: 'close', afterBytes: CUT, times: 1 });
  const proxy = await startProxy(t);
  const segments = await segmentUrls(proxy, origin.url('/index.m3u8'), []);
  const r = await get(segments[1] ?? '');
  assert.ok(r.body.equals(body(2)), `the whole segment, byte for byte (${r.body.length} bytes)`);
  const hits = origin.hits('/seg1.ts');
  assert.equal(hits.length, 2);
  assert.match(String(hits[1]?.headers.range), /^bytes=\d+-$/);
});

test('issue 24.6: a backup copy of another length is not spliced in: the body stays cut', async (t) => {
  const primary = await copyOf(t, body(3), { kind: 'reset', afterBytes: CUT });
  const backup = await copyOf(t, body(3, SIZE + 1000));
  const proxy = await startProxy(t);
  const segments = await segmentUrls(proxy, primary.url('/index.m3u8'), [backup.url('/index.m3u8')]);
  const r = await get(segments[1] ?? '').catch((err: unknown) => ({ body: Buffer.alloc(0), status: 0, error: err }));
  assert.ok(r.body.length < SIZE, `a cut body, never a mixed one (${r.body.length} bytes)`);
  assert.equal(backup.hits('/seg1.ts').length, 1, 'the backup copy was asked, and its length refused');
});
