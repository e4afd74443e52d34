// Issue 24 item 7: what the proxy keeps for one HLS player's reloads (the rewrite memo that keeps its segment URIs
// stable) lives as long as that player's session. A player that stops reloading ends with CLIENT_TIMEOUT, and so does
// what was kept for it: a burst of 10,000 players left 1,024 memos behind for good, which pinned freed memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApp } from '../../src/app.ts';
import { silentLogger } from '../../src/log.ts';
import { createHlsStream, get, playlistUris } from '../helpers/hls.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { testConfig } from '../helpers/start-proxy.ts';

const LIVE = ['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:7', '#EXTINF:2.0,', 'a7.ts', '#EXTINF:2.0,', 'a8.ts', ''].join('\n');

test('a player whose session timed out gets fresh URIs when it comes back; a player still reloading keeps its own', async (t) => {
  const origin = await startOrigin(t, { '/live.m3u8': { kind: 'file', body: Buffer.from(LIVE), contentType: 'application/vnd.apple.mpegurl' } });
  let clock = Date.now();
  // The sweeper runs every 10 ms of real time; only the registry's clock decides what is idle.
  const app = createApp(testConfig({ cleanupIntervalMs: 10 }), { logger: silentLogger, now: () => clock });
  t.after(() => app.close(100));
  const port = await app.listen(0, '127.0.0.1');
  const proxy = { app, port, base: `http://127.0.0.1:${port}` };
  const created = await createHlsStream(proxy, origin.url('/live.m3u8'));
  const uris = async (client: string): Promise<string[]> => {
    const r = await get(`${proxy.base}${created.playlist_url}?client_id=${client}`);
    assert.equal(r.status, 200);
    return playlistUris(r.text);
  };

  const gone = await uris('gone');
  const stays = await uris('stays');
  assert.equal(gone.length, 2);
  assert.deepEqual(await uris('gone'), gone, 'a reload keeps the URIs the player has');
  assert.notDeepEqual(stays, gone, 'each player has its own');

  const timeout = app.config.clientTimeoutMs;
  clock += timeout / 2;
  assert.deepEqual(await uris('stays'), stays);
  clock += timeout / 2 + 1;
  await waitFor(() => app.registry.findClient(created.stream_id, 'gone').length === 0, 5_000, 'the quiet player timed out');
  assert.equal(app.registry.findClient(created.stream_id, 'stays').length, 1, 'the other one is still playing');

  const back = await uris('gone');
  assert.equal(back.length, 2);
  for (const u of back) assert.ok(!gone.includes(u), `a new session, new URIs: ${u}`);
  assert.deepEqual(await uris('stays'), stays, 'the player that kept reloading keeps its URIs');
});
