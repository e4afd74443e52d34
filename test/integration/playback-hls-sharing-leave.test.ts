// SPEC §5.5 on the HLS routes' edges: a continuous stream behind a playlist URL is one shared upstream for all its
// viewers, and a playlist's or a segment's waiting viewers share one fetch again when the viewer whose request was
// fetching it leaves before the answer (they used to fetch all at once).
import assert from 'node:assert/strict';
import { request, type ServerResponse } from 'node:http';
import { test } from 'node:test';
import { createHlsStream, get, playlistUris, proxyUrl } from '../helpers/hls.ts';
import { startOrigin, waitFor, type Behaviour } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { startProxy } from '../helpers/start-proxy.ts';

const MPEGURL = 'application/vnd.apple.mpegurl';
const LIVE = '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:10,\nseg.ts\n';

/** An origin route that answers `body` after `delayMs`, counting the requests it holds at once. */
function slowAnswer(body: Buffer, type: string, delayMs: number): { behaviour: Behaviour; maxAtOnce(): number } {
  let open = 0;
  let max = 0;
  return {
    behaviour: {
      kind: 'handler',
      handle(_req, res: ServerResponse) {
        open++;
        max = Math.max(max, open);
        res.once('close', () => open--);
        setTimeout(() => {
          if (!res.destroyed) res.writeHead(200, { 'content-type': type, 'content-length': String(body.length) }).end(body);
        }, delayMs);
      },
    },
    maxAtOnce: () => max,
  };
}

/** A GET that is only ever abandoned: the viewer whose request leads a shared fetch, leaving before the answer. */
function leavingGet(url: string): () => void {
  const req = request(url, { agent: false });
  req.on('error', () => undefined); // destroyed on purpose
  req.end();
  return () => req.destroy();
}

test('§5.5 a continuous stream behind a playlist URL: its HLS and /stream viewers share one upstream', async (t) => {
  const origin = await startOrigin(t, { '/chan.m3u8': { kind: 'live', fill: 0x47, contentType: 'video/mp2t' } });
  const proxy = await startProxy(t);
  const created = await createHlsStream(proxy, origin.url('/chan.m3u8'));
  const playlist = proxyUrl(proxy, created.playlist_url);
  const viewers = [];
  for (const id of ['a', 'b', 'c']) {
    const v = await openPlayer(t, `${playlist}?client_id=${id}`);
    await v.waitBytes(20_000);
    viewers.push(v);
  }
  const onStream = await openPlayer(t, proxyUrl(proxy, created.stream_endpoint));
  await onStream.waitBytes(20_000);
  // Each of them used to hold its own provider connection.
  assert.equal(origin.hits('/chan.m3u8').length, 1);
  assert.equal(origin.openSockets, 1);
  assert.equal(proxy.app.share.viewers(created.stream_id), 4);
});

test('§5.5 a playlist fetch whose viewer left: the viewers waiting on it share one fetch again', async (t) => {
  const playlist = slowAnswer(Buffer.from(LIVE), MPEGURL, 300);
  const origin = await startOrigin(t, { '/live.m3u8': playlist.behaviour });
  const proxy = await startProxy(t);
  const created = await createHlsStream(proxy, origin.url('/live.m3u8'));
  const url = proxyUrl(proxy, created.playlist_url);
  const leave = leavingGet(`${url}?client_id=leader`);
  t.after(leave);
  await waitFor(() => origin.hits('/live.m3u8').length === 1, 5_000, 'the leader reached the origin');
  const waiting = ['b', 'c', 'd'].map((id) => get(`${url}?client_id=${id}`));
  await new Promise((resolve) => setTimeout(resolve, 100));
  leave();
  for (const r of await Promise.all(waiting)) assert.equal(r.status, 200, r.text);
  assert.equal(playlist.maxAtOnce(), 1, 'one upstream fetch at a time');
  assert.equal(origin.hits('/live.m3u8').length, 2, 'the abandoned fetch and one for the three');
});

test('§5.5 a segment fetch whose viewer left before the answer: the viewers waiting on it share one fetch again', async (t) => {
  const segment = slowAnswer(Buffer.alloc(50_000, 0x47), 'video/mp2t', 300);
  const origin = await startOrigin(t, { '/live.m3u8': { kind: 'file', body: Buffer.from(LIVE), contentType: MPEGURL }, '/seg.ts': segment.behaviour });
  // No cache: only the shared in-flight request can make the viewers' requests one.
  const proxy = await startProxy(t, { hlsSegmentCacheBytes: 0 });
  const created = await createHlsStream(proxy, origin.url('/live.m3u8'));
  const urls: string[] = [];
  for (const id of ['leader', 'b', 'c', 'd']) {
    const at = proxyUrl(proxy, `${created.playlist_url}?client_id=${id}`);
    const r = await get(at);
    assert.equal(r.status, 200, r.text);
    urls.push(proxyUrl(proxy, playlistUris(r.text)[0] ?? '', at));
  }
  const leave = leavingGet(urls[0] ?? '');
  t.after(leave);
  await waitFor(() => origin.hits('/seg.ts').length === 1, 5_000, 'the leader reached the origin');
  const waiting = urls.slice(1).map((u) => get(u));
  await new Promise((resolve) => setTimeout(resolve, 100));
  leave();
  for (const r of await Promise.all(waiting)) assert.equal(r.body.length, 50_000);
  assert.equal(segment.maxAtOnce(), 1, 'one upstream fetch at a time');
  assert.equal(origin.hits('/seg.ts').length, 2, 'the abandoned fetch and one for the three');
});
