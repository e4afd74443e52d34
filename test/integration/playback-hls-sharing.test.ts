// Issue 10 item 7 / SPEC §5.5: the viewers of one HLS stream cost one upstream fetch per object. Concurrent requests
// for one segment share one upstream request (the fetching viewer leaving cuts no one), later ones and Range requests
// are answered from the segment cache, and a playlist fetched for one viewer serves the others, each with its tokens.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request, type ServerResponse } from 'node:http';
import { test } from 'node:test';
import { createHlsStream, get, playlistUris, proxyUrl } from '../helpers/hls.ts';
import { startOrigin, waitFor, type Behaviour } from '../helpers/origin.ts';
import { startProxy, type RunningProxy } from '../helpers/start-proxy.ts';

const MPEGURL = 'application/vnd.apple.mpegurl';
const LIVE = '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:10,\nseg.ts\n#EXTINF:10,\nbig.ts\n';

/** An origin route that sends the first `firstBytes` of `body` and holds the rest until release(). */
function heldBody(body: Buffer, firstBytes: number): { behaviour: Behaviour; release(): void } {
  const held: ServerResponse[] = [];
  let released = false;
  const finish = (res: ServerResponse): void => void res.end(body.subarray(firstBytes));
  return {
    behaviour: {
      kind: 'handler',
      handle(_req, res) {
        res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(body.length) });
        res.write(body.subarray(0, firstBytes));
        if (released) finish(res);
        else held.push(res);
      },
    },
    release() {
      released = true;
      for (const res of held.splice(0)) finish(res);
    },
  };
}

/** A GET whose progress can be watched while it runs. */
function startGet(url: string): { received(): number; done: Promise<Buffer>; abort(): void } {
  const chunks: Buffer[] = [];
  let received = 0;
  const req = request(url, { agent: false });
  const done = new Promise<Buffer>((resolve, reject) => {
    req.once('response', (res) => {
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
      });
      res.once('end', () => resolve(Buffer.concat(chunks)));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
  req.end();
  return { received: () => received, done, abort: () => req.destroy() };
}

/** Each viewer's own URL for the URI at `index` of the playlist, as its player would get it. */
async function viewerUrls(proxy: RunningProxy, playlistUrl: string, viewers: number, index: number): Promise<string[]> {
  const urls: string[] = [];
  for (let v = 0; v < viewers; v++) {
    const at = proxyUrl(proxy, `${playlistUrl}?client_id=viewer${v}`);
    const r = await get(at);
    assert.equal(r.status, 200, r.text);
    urls.push(proxyUrl(proxy, playlistUris(r.text)[index] ?? '', at));
  }
  return urls;
}

test('§5.5 viewers asking for one segment at once share one upstream request; the one that fetched it may leave', async (t) => {
  const body = randomBytes(256 * 1024);
  const segment = heldBody(body, 64 * 1024);
  const origin = await startOrigin(t, { '/live.m3u8': { kind: 'file', body: Buffer.from(LIVE), contentType: MPEGURL }, '/seg.ts': segment.behaviour });
  // No cache: only the shared in-flight request can make the four one.
  const proxy = await startProxy(t, { hlsSegmentCacheBytes: 0 });
  const created = await createHlsStream(proxy, origin.url('/live.m3u8'));
  const urls = await viewerUrls(proxy, created.playlist_url, 4, 0);
  assert.equal(new Set(urls).size, 4, 'every viewer has its own token');

  const gets = urls.map((u) => startGet(u));
  await waitFor(() => gets.every((g) => g.received() >= 64 * 1024), 5_000, 'every viewer has the first bytes');
  gets[0]?.abort(); // the viewer whose request fetched the segment
  await assert.rejects(gets[0]?.done ?? Promise.resolve());
  segment.release();
  for (const g of gets.slice(1)) assert.ok((await g.done).equals(body), 'the whole segment, byte for byte');
  assert.equal(origin.hits('/seg.ts').length, 1, 'one upstream request for four viewers');
});

test('§5.5 the segment cache answers later viewers and Range requests; a segment over the entry cap is not kept', async (t) => {
  const small = randomBytes(100_000);
  const big = randomBytes(300_000);
  const origin = await startOrigin(t, {
    '/live.m3u8': { kind: 'file', body: Buffer.from(LIVE), contentType: MPEGURL },
    '/seg.ts': { kind: 'file', body: small, contentType: 'video/mp2t' },
    '/big.ts': { kind: 'file', body: big, contentType: 'video/mp2t' },
  });
  // 1 MiB of cache: one entry may hold a quarter of it, so `big` is never cached.
  const proxy = await startProxy(t, { hlsSegmentCacheBytes: 1024 * 1024 });
  const created = await createHlsStream(proxy, origin.url('/live.m3u8'));
  const [a, b, c] = await viewerUrls(proxy, created.playlist_url, 3, 0);
  assert.ok((await get(a ?? '')).body.equals(small));
  const second = await get(b ?? '');
  assert.equal(second.status, 200);
  assert.ok(second.body.equals(small));
  assert.equal(second.headers['content-length'], String(small.length));
  const ranged = await get(c ?? '', { range: 'bytes=1000-1999' });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers['content-range'], `bytes 1000-1999/${small.length}`);
  assert.ok(ranged.body.equals(small.subarray(1000, 2000)));
  assert.equal((await get(c ?? '', { range: `bytes=${small.length}-` })).status, 416);
  assert.equal(origin.hits('/seg.ts').length, 1, 'one upstream request for every viewer and range');

  const [x, y] = await viewerUrls(proxy, created.playlist_url, 2, 1);
  assert.ok((await get(x ?? '')).body.equals(big));
  assert.ok((await get(y ?? '')).body.equals(big));
  assert.equal(origin.hits('/big.ts').length, 2, 'too big to keep: fetched per viewer');
});

test('§5.5 viewers reloading one playlist share one upstream fetch, each with its own tokens; its own reload goes upstream', async (t) => {
  let held: ServerResponse[] = [];
  let released = false;
  const answer = (res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': MPEGURL });
    res.end(LIVE);
  };
  const origin = await startOrigin(t, {
    '/live.m3u8': {
      kind: 'handler',
      handle(_req, res) {
        if (released) answer(res);
        else held.push(res);
      },
    },
    '/seg.ts': { kind: 'file', body: Buffer.from('segment'), contentType: 'video/mp2t' },
  });
  const proxy = await startProxy(t);
  const created = await createHlsStream(proxy, origin.url('/live.m3u8'));
  const pending = [0, 1, 2, 3].map((v) => get(proxyUrl(proxy, `${created.playlist_url}?client_id=viewer${v}`)));
  await waitFor(() => origin.hits('/live.m3u8').length >= 1, 5_000, 'the first fetch');
  released = true;
  for (const res of held) answer(res);
  held = [];
  const answers = await Promise.all(pending);
  // Whether a viewer joined the fetch in flight or came just after it, the same upstream answer served it.
  assert.equal(origin.hits('/live.m3u8').length, 1, 'one upstream fetch for four viewers');
  const segmentUrls = answers.map((r) => {
    assert.equal(r.status, 200);
    return playlistUris(r.text)[0] ?? '';
  });
  assert.equal(new Set(segmentUrls).size, 4, 'each viewer got its own tokens');
  const at = proxyUrl(proxy, created.playlist_url);
  for (const u of segmentUrls) assert.equal((await get(proxyUrl(proxy, u, at))).text, 'segment', 'and every token works');
  await get(proxyUrl(proxy, `${created.playlist_url}?client_id=viewer0`));
  assert.equal(origin.hits('/live.m3u8').length, 2, "a viewer's own reload is fetched again");
});

test('§5.5 a viewer that stops reading a shared segment slows no one: the others get it whole, from one upstream request', async (t) => {
  const body = randomBytes(8 * 1024 * 1024);
  const segment = heldBody(body, 1024);
  const origin = await startOrigin(t, { '/live.m3u8': { kind: 'file', body: Buffer.from(LIVE), contentType: MPEGURL }, '/seg.ts': segment.behaviour });
  const proxy = await startProxy(t, { hlsSegmentCacheBytes: 0 });
  const created = await createHlsStream(proxy, origin.url('/live.m3u8'));
  const [stuckUrl, ...urls] = await viewerUrls(proxy, created.playlist_url, 3, 0);
  // The stuck viewer fetches first, so its request is the one that went upstream; then it never reads again.
  const stuckReq = request(stuckUrl ?? '', { agent: false }, (res) => res.pause());
  stuckReq.on('error', expectReset);
  t.after(() => stuckReq.destroy());
  stuckReq.end();
  await waitFor(() => origin.hits('/seg.ts').length === 1, 5_000, 'the upstream request');
  const gets = urls.map((u) => startGet(u));
  await waitFor(() => gets.every((g) => g.received() >= 1024), 5_000, 'the others joined');
  segment.release();
  for (const g of gets) assert.ok((await g.done).equals(body), 'the whole segment, byte for byte');
  assert.equal(origin.hits('/seg.ts').length, 1);
});

function expectReset(): void {
  // The stuck viewer's request is destroyed when its test ends: an error is what that looks like.
}
