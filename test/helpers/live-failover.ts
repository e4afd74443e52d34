// A live HLS channel carried by two providers, each on its own origin with one shared live clock, registered on a
// fresh proxy with the backup as its failover URL: closing the primary origin refuses its playlist and segments.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { encodeHls, fileRoutes, liveWindow, type EncodedHls } from './hls-fixtures.ts';
import { startOrigin, type Origin } from './origin.ts';
import { api, startProxy } from './start-proxy.ts';

export interface LiveFailover {
  /** A scratch directory removed after the test. */
  dir: string;
  media: EncodedHls;
  primary: Origin;
  backup: Origin;
  proxy: Awaited<ReturnType<typeof startProxy>>;
  id: string;
  /** The stream's playlist path on the proxy. */
  playlistUrl: string;
}

/** `seconds` of media in a 4-segment window advancing one segment a second; primary at /a/live.m3u8, backup /b/. */
export async function startLiveFailover(t: TestContext, seconds: number): Promise<LiveFailover> {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-proxy-e2e-live-failover-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const media = await encodeHls(t, join(dir, 'media'), { seconds });
  const live = liveWindow(media, { windowSize: 4, advanceMs: 1_000 });
  const primary = await startOrigin(t, fileRoutes(media.dir, '/a', { '/a/live.m3u8': live.behaviour }));
  const backup = await startOrigin(t, fileRoutes(media.dir, '/b', { '/b/live.m3u8': live.behaviour }));
  const proxy = await startProxy(t);
  const created = await api(proxy.base, 'POST', '/streams', { url: primary.url('/a/live.m3u8'), failover_urls: [backup.url('/b/live.m3u8')] });
  assert.equal(created.status, 200);
  const { stream_id: id, playlist_url: playlistUrl } = created.body as { stream_id: string; playlist_url: string };
  return { dir, media, primary, backup, proxy, id, playlistUrl };
}
