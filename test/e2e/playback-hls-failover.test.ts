// A real player across a provider outage (SPEC §5.2, §5.3, issue 15): ffmpeg plays a live HLS master through the
// proxy, the primary provider dies mid-play (playlists and segments), and the variant URL ffmpeg keeps reloading fails
// over to the same variant of the backup's master, so playback goes on from the backup's segments. For a VOD, which is
// never reloaded, the segment URLs fail over by themselves: ffmpeg decodes every frame of the source.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { requireFfmpeg, runOk, runTool, TOOL_TIMEOUT_MS } from '../helpers/ffmpeg.ts';
import { encodeHls, fileRoutes, liveWindow } from '../helpers/hls-fixtures.ts';
import { startOrigin, waitFor, type Behaviour } from '../helpers/origin.ts';
import { startLiveFailover } from '../helpers/live-failover.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const MASTER = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=320x240,CODECS="avc1.42c00d,mp4a.40.2"\nv0/live.m3u8\n';

test('§5.3 ffmpeg keeps playing a live HLS master when the primary provider dies mid-play', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const dir = mkdtempSync(join(tmpdir(), 'm3u-proxy-e2e-failover-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const media = await encodeHls(t, join(dir, 'media'), { seconds: 16 });
  // One live clock for both providers: the backup carries the same channel at the same media sequence.
  const live = liveWindow(media, { windowSize: 4, advanceMs: 1_000 });
  const master: Behaviour = { kind: 'file', body: Buffer.from(MASTER), contentType: 'application/vnd.apple.mpegurl' };
  const primary = fileRoutes(media.dir, '/a/v0', { '/a/master.m3u8': master, '/a/v0/live.m3u8': live.behaviour });
  const backup = fileRoutes(media.dir, '/b/v0', { '/b/master.m3u8': master, '/b/v0/live.m3u8': live.behaviour });
  const origin = await startOrigin(t, { ...primary, ...backup });
  const proxy = await startProxy(t);
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/a/master.m3u8'), failover_urls: [origin.url('/b/master.m3u8')] });
  assert.equal(created.status, 200);
  const { stream_id: id, playlist_url: playlistUrl } = created.body as { stream_id: string; playlist_url: string };

  // 7 s of output from a window that advances one second per second: ffmpeg must reload the variant for minutes 3+.
  const out = join(dir, 'out.ts');
  const playing = runTool(t, 'ffmpeg', ['-nostdin', '-v', 'warning', '-i', proxy.base + playlistUrl, '-t', '7', '-c', 'copy', '-f', 'mpegts', out]);
  await waitFor(() => origin.hits('/a/v0/live.m3u8').length >= 2, TOOL_TIMEOUT_MS, 'ffmpeg reloads the primary variant');
  // The outage: everything of the primary answers 503 from now on.
  for (const path of Object.keys(primary)) origin.set(path, { kind: 'status', status: 503, body: 'down' });

  const r = await playing;
  assert.ok(!r.timedOut, `ffmpeg still running after ${TOOL_TIMEOUT_MS / 1000} s:\n${r.stderr}`);
  assert.equal(r.code, 0, `ffmpeg exited ${r.code ?? r.signal}:\n${r.stderr}`);
  const backupSegments = media.segments.filter((s) => origin.hits(`/b/v0/${s.name}`).length > 0).length;
  assert.ok(backupSegments >= 2, `ffmpeg went on with the backup's segments (${backupSegments} fetched)`);
  const stat = (await api(proxy.base, 'GET', `/streams/${id}`)).body as { stream: { current_url: string; failover_count: number } };
  assert.equal(stat.stream.current_url, origin.url('/b/master.m3u8'));
  assert.ok(stat.stream.failover_count >= 1);

  // What ffmpeg wrote is real, continuous media: at least 5 of the 7 seconds survived the outage.
  const probe = await runOk(t, 'ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', out]);
  const seconds = Number(probe.stdout.trim());
  assert.ok(seconds >= 5, `output lasts ${seconds} s`);
});

/** The video frames' checksums (ffmpeg framemd5), one line per decoded frame. */
async function videoFrames(t: TestContext, input: string): Promise<string[]> {
  const r = await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-i', input, '-map', '0:v:0', '-f', 'framemd5', '-']);
  return r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

test('§5.3 issue 15: ffmpeg decodes every frame of an HLS VOD when the primary provider dies mid-play', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const dir = mkdtempSync(join(tmpdir(), 'm3u-proxy-e2e-vod-failover-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const media = await encodeHls(t, join(dir, 'media'), { seconds: 20 });
  const source = await videoFrames(t, join(media.dir, 'index.m3u8'));
  assert.equal(source.length, 500, '20 s at 25 fps');
  // Two providers of the same file on two origins; the primary holds its sixth segment until it dies.
  const primary = await startOrigin(t, fileRoutes(media.dir, '/a'));
  const backup = await startOrigin(t, fileRoutes(media.dir, '/b'));
  const held = `/a/${media.segments[5]?.name ?? ''}`;
  primary.set(held, { kind: 'hang' });
  const proxy = await startProxy(t);
  const created = await api(proxy.base, 'POST', '/streams', { url: primary.url('/a/index.m3u8'), failover_urls: [backup.url('/b/index.m3u8')] });
  assert.equal(created.status, 200);
  const { stream_id: id, playlist_url: playlistUrl } = created.body as { stream_id: string; playlist_url: string };

  const playing = videoFrames(t, proxy.base + playlistUrl);
  await waitFor(() => primary.hits(held).length > 0, TOOL_TIMEOUT_MS, 'ffmpeg reaches the sixth segment');
  await primary.close(); // the held request is cut, and every later one is refused

  const frames = await playing;
  assert.equal(frames.length, source.length, 'every frame was decoded');
  assert.deepEqual(frames, source, 'and each is the frame of the source');
  const stat = (await api(proxy.base, 'GET', `/streams/${id}`)).body as { stream: { current_url: string; failover_count: number } };
  assert.equal(stat.stream.current_url, backup.url('/b/index.m3u8'));
  assert.equal(stat.stream.failover_count, 1);
  assert.equal(backup.hits('/b/index.m3u8').length, 1, 'the backup playlist was read once');
});

test('§5.3 issue 15: ffmpeg plays on through a live HLS outage when the primary provider goes away entirely', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const { dir, primary, backup, proxy, id, playlistUrl } = await startLiveFailover(t, 16);

  const out = join(dir, 'out.ts');
  const playing = runTool(t, 'ffmpeg', ['-nostdin', '-v', 'warning', '-i', proxy.base + playlistUrl, '-t', '7', '-c', 'copy', '-f', 'mpegts', out]);
  await waitFor(() => primary.hits('/a/live.m3u8').length >= 2, TOOL_TIMEOUT_MS, 'ffmpeg reloads the primary playlist');
  await primary.close();

  const r = await playing;
  assert.ok(!r.timedOut, `ffmpeg still running after ${TOOL_TIMEOUT_MS / 1000} s:\n${r.stderr}`);
  assert.equal(r.code, 0, `ffmpeg exited ${r.code ?? r.signal}:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Failed to open segment/, 'no segment was skipped');
  const stat = (await api(proxy.base, 'GET', `/streams/${id}`)).body as { stream: { current_url: string; failover_count: number } };
  assert.equal(stat.stream.current_url, backup.url('/b/live.m3u8'));
  assert.equal(stat.stream.failover_count, 1);
  const probe = await runOk(t, 'ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', out]);
  const seconds = Number(probe.stdout.trim());
  assert.ok(seconds >= 5, `output lasts ${seconds} s`);
});

test('issue 24.6: ffmpeg loses no frame when the origin dies in the middle of a VOD segment', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const dir = mkdtempSync(join(tmpdir(), 'm3u-proxy-e2e-segment-resume-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const media = await encodeHls(t, join(dir, 'media'), { seconds: 20 });
  const source = await videoFrames(t, join(media.dir, 'index.m3u8'));
  // The primary sends half of its fourth segment, then holds the socket open until it dies.
  const primaryRoutes = fileRoutes(media.dir, '/a');
  const cutPath = `/a/${media.segments[3]?.name ?? ''}`;
  const cut = primaryRoutes[cutPath];
  assert.ok(cut?.kind === 'file');
  primaryRoutes[cutPath] = { ...cut, fault: { kind: 'stall', afterBytes: Math.floor(cut.body.length / 2) } };
  const primary = await startOrigin(t, primaryRoutes);
  const backup = await startOrigin(t, fileRoutes(media.dir, '/b'));
  const proxy = await startProxy(t);
  const created = await api(proxy.base, 'POST', '/streams', { url: primary.url('/a/index.m3u8'), failover_urls: [backup.url('/b/index.m3u8')] });
  assert.equal(created.status, 200);
  const { playlist_url: playlistUrl } = created.body as { playlist_url: string };

  const playing = videoFrames(t, proxy.base + playlistUrl);
  await waitFor(() => (primary.hits(cutPath)[0]?.bytesSent ?? 0) >= Math.floor(cut.body.length / 2), TOOL_TIMEOUT_MS, 'ffmpeg is halfway through the segment');
  await primary.close(); // the segment is cut mid-body, and every later request is refused

  const frames = await playing;
  assert.equal(frames.length, source.length, 'every frame was decoded');
  assert.deepEqual(frames, source, 'and each is the frame of the source');
  const resumed = backup.hits(`/b/${media.segments[3]?.name ?? ''}`);
  assert.equal(resumed.length, 1);
  assert.match(String(resumed[0]?.headers.range), /^bytes=[1-9]\d*-$/, 'the backup was asked for the rest only');
});
