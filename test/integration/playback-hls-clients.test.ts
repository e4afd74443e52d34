// HLS clients (SPEC §5.3, §3.2, §7): one client per player across playlist and segment requests, its id carried by
// the tokens, exact byte and segment counts, kicking a client, and deleting a stream mid-download.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createHlsStream, get, m3u8, matchRewritten, playlistRef as p, proxyUrl, segmentRef as s, type RawResponse } from '../helpers/hls.ts';
import { startOrigin, waitFor, type Behaviour } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const MPEGURL = 'application/vnd.apple.mpegurl';
const playlist = (body: string): Behaviour => ({ kind: 'file', body: Buffer.from(body), contentType: MPEGURL });

interface StreamDetail {
  stream: { total_bytes_served: number; total_segments_served: number; stream_type: string; client_count: number };
  clients: { client_id: string; bytes_served: number; segments_served: number; user_agent: string }[];
  client_count: number;
}

test('§5.3 §7 one client per player across playlists and segments, with exact byte and segment counts', async (t) => {
  const tpl = m3u8`#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n${s('a.ts')}\n#EXTINF:2,\n${s('b.ts')}\n#EXTINF:2,\n${s('c.ts')}\n`;
  const bodies = [randomBytes(1000), randomBytes(2345), randomBytes(70_000)];
  const origin = await startOrigin(t, {
    '/c/index.m3u8': playlist(tpl.body),
    '/c/a.ts': { kind: 'file', body: bodies[0] ?? Buffer.alloc(0) },
    '/c/b.ts': { kind: 'file', body: bodies[1] ?? Buffer.alloc(0) },
    '/c/c.ts': { kind: 'file', body: bodies[2] ?? Buffer.alloc(0) },
  });
  const proxy = await startProxy(t);
  const connected: string[] = [];
  proxy.app.bus.subscribe((e) => {
    if (e.event_type === 'client_connected') connected.push(String(e.data['client_id']));
  });
  const st = await createHlsStream(proxy, origin.url('/c/index.m3u8'));

  const got: RawResponse[] = [];
  const first = await get(proxyUrl(proxy, st.playlist_url));
  got.push(first, await get(proxyUrl(proxy, st.playlist_url)));
  const urls = matchRewritten(first.text, tpl, '', st.stream_id);
  for (const u of [...urls, urls[0]]) got.push(await get(proxyUrl(proxy, u ?? '')));
  for (const r of got) assert.equal(r.status, 200);
  const received = got.reduce((n, r) => n + r.body.length, 0);
  const segmentBytes = got.slice(2).reduce((n, r) => n + r.body.length, 0);
  assert.equal(segmentBytes, 1000 + 2345 + 70_000 + 1000);

  const clientId = String(first.headers['x-client-id']);
  await waitFor(() => (proxy.app.registry.clientsOf(st.stream_id)[0]?.segmentsServed ?? 0) >= 4, 2_000, 'four segments counted');
  await waitFor(() => (proxy.app.registry.getStream(st.stream_id)?.bytesServed ?? 0) >= segmentBytes, 2_000, 'segment bytes counted');
  const detail = (await api(proxy.base, 'GET', `/streams/${st.stream_id}`)).body as StreamDetail;
  assert.equal(detail.client_count, 1);
  assert.deepEqual(connected, [clientId], 'client_connected once, not per request');
  const [client] = detail.clients;
  assert.equal(client?.client_id, clientId);
  assert.equal(client?.segments_served, 4);
  const why = `every body byte the player received: ${received} (segments ${segmentBytes} + playlists ${received - segmentBytes})`;
  assert.equal(client?.bytes_served, received, why);
  assert.equal(detail.stream.total_bytes_served, received, why);
  assert.equal(detail.stream.total_segments_served, 4);
  assert.equal(detail.stream.stream_type, 'HLS');
});

test('§5.3 §5.4 client_id on the playlist request is the X-Client-ID, kept through the tokens; DELETE /hls/{id}/clients/{cid}', async (t) => {
  const master = m3u8`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n${p('v.m3u8')}\n`;
  const variant = m3u8`#EXTM3U\n#EXTINF:2,\n${s('a.ts')}\n`;
  const origin = await startOrigin(t, {
    '/k/index.m3u8': playlist(master.body),
    '/k/v.m3u8': playlist(variant.body),
    '/k/a.ts': { kind: 'file', body: randomBytes(500) },
  });
  const proxy = await startProxy(t);
  const disconnected: string[] = [];
  proxy.app.bus.subscribe((e) => {
    if (e.event_type === 'client_disconnected') disconnected.push(String(e.data['client_id']));
  });
  const st = await createHlsStream(proxy, origin.url('/k/index.m3u8'));

  const m = await get(proxyUrl(proxy, `${st.playlist_url}?client_id=alice`));
  assert.equal(m.headers['x-client-id'], 'alice');
  const [v] = matchRewritten(m.text, master, '', st.stream_id);
  // No query on the proxy URLs: the client id travels inside the token.
  const vr = await get(proxyUrl(proxy, v ?? ''));
  assert.equal(vr.headers['x-client-id'], 'alice');
  const [seg] = matchRewritten(vr.text, variant, '', st.stream_id);
  assert.equal((await get(proxyUrl(proxy, seg ?? ''), { 'user-agent': 'SomeoneElse/2' })).status, 200);
  await waitFor(() => proxy.app.registry.findClient(st.stream_id, 'alice')[0]?.segmentsServed === 1, 2_000, 'segment counted for alice');

  // A second player with no client_id gets the derived id.
  const other = await get(proxyUrl(proxy, st.playlist_url), { 'user-agent': 'OtherPlayer/1' });
  const otherId = String(other.headers['x-client-id']);
  assert.match(otherId, /^client_[0-9a-f]{16}$/);
  let detail = (await api(proxy.base, 'GET', `/streams/${st.stream_id}`)).body as StreamDetail;
  assert.equal(detail.client_count, 2);
  assert.deepEqual(detail.clients.map((c) => c.client_id).sort(), ['alice', otherId].sort());

  const kick = await api(proxy.base, 'DELETE', `/hls/${st.stream_id}/clients/alice`);
  assert.equal(kick.status, 200);
  assert.deepEqual(kick.body, { message: 'Client alice disconnected' });
  assert.deepEqual(disconnected, ['alice']);
  detail = (await api(proxy.base, 'GET', `/streams/${st.stream_id}`)).body as StreamDetail;
  assert.deepEqual(detail.clients.map((c) => c.client_id), [otherId]);
  const again = await api(proxy.base, 'DELETE', `/hls/${st.stream_id}/clients/alice`);
  assert.equal(again.status, 404);
  assert.equal((again.body as { code: string }).code, 'NOT_FOUND');
});

test('§3.2 DELETE /streams/{id} ends an in-flight segment download and closes its upstream socket', async (t) => {
  const tpl = m3u8`#EXTM3U\n#EXTINF:10,\n${s('big.ts')}\n`;
  // 4 MiB in 16 KiB chunks every 20 ms: about five seconds if nobody stops it.
  const origin = await startOrigin(t, {
    '/d/index.m3u8': playlist(tpl.body),
    '/d/big.ts': { kind: 'file', body: randomBytes(4 * 1024 * 1024), contentType: 'video/mp2t', chunkBytes: 16 * 1024, trickleMs: 20 },
  });
  const proxy = await startProxy(t);
  const events: string[] = [];
  proxy.app.bus.subscribe((e) => events.push(e.event_type));
  const st = await createHlsStream(proxy, origin.url('/d/index.m3u8'));
  const [seg] = matchRewritten((await get(proxyUrl(proxy, st.playlist_url))).text, tpl, '', st.stream_id);
  const player = await openPlayer(t, proxyUrl(proxy, seg ?? ''));
  assert.equal(player.res.statusCode, 200);
  await player.waitBytes(32 * 1024);
  const upstream = origin.lastRequest('/d/big.ts');

  assert.equal((await api(proxy.base, 'DELETE', `/streams/${st.stream_id}`)).status, 200);
  const bound = (what: string) => new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} after 2 s`)), 2_000).unref());
  assert.deepEqual(await Promise.race([player.done, bound('player still downloading')]), { complete: false });
  await Promise.race([upstream.socketClosed, bound('origin socket still open')]);
  assert.ok(player.bytes < 4 * 1024 * 1024);
  assert.equal(proxy.app.registry.clientCount(st.stream_id), 0);
  assert.ok(events.includes('client_disconnected'));
  assert.ok(events.includes('stream_stopped'));
});
