// SPEC §13 with the real FFmpeg: the editor's Default Live template on a local live TS origin, decoded with
// ffprobe/ffmpeg through the proxy; every viewer shares one FFmpeg and one origin connection; DELETE leaves none.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_TRANSCODE_CONFIG } from '../../src/config-transcode.ts';
import { EDITOR_DEFAULT_PROFILES } from '../../src/services/transcode/profiles.ts';
import { alive, privateHlsDir } from '../helpers/fake-program.ts';
import { probeStreamTypes, requireFfmpeg, runOk } from '../helpers/ffmpeg.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { makeChannel, paced } from '../helpers/live-channel.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

test('Default Live: ffprobe and ffmpeg decode through the proxy; three viewers, one FFmpeg, one origin connection; DELETE kills it', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const channel = await makeChannel(t, 'h264', '400k');
  const origin = await startOrigin(t, { '/live/1.ts': paced(channel, 20) });
  const { base, app } = await startProxy(t, { transcode: { ...DEFAULT_TRANSCODE_CONFIG, ffmpegPath: 'ffmpeg', graceMs: 60_000, hlsDir: privateHlsDir(t) } });
  const r = await api(base, 'POST', '/transcode', { url: origin.url('/live/1.ts'), profile: EDITOR_DEFAULT_PROFILES.live, metadata: { profile_id: 1 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const id = String((r.body as Record<string, unknown>)['stream_id']);
  const url = `${base}/stream/${id}`;

  const watcher = await openPlayer(t, url);
  assert.equal(watcher.res.statusCode, 200);
  await watcher.waitBytes(50_000, 20_000);
  // ffprobe lists a TS program's streams twice (under the program and alone): the kinds are what count.
  assert.deepEqual([...new Set(await probeStreamTypes(t, url))], ['video', 'audio']);
  const decoded = await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-i', url, '-t', '2', '-f', 'null', '-']);
  assert.equal(decoded.stderr.trim(), '', 'a late joiner decodes without an error');
  assert.equal(origin.hits('/live/1.ts').length, 1, 'one provider connection for every viewer');
  assert.equal(app.transcoding.engine.processCount(), 1, 'one FFmpeg for every viewer');
  const stat = (await api(base, 'GET', `/streams/${id}`)).body as { stream: Record<string, unknown> };
  assert.equal(stat.stream['upstream_connections'], 1);
  // FFmpeg's -progress lines (one block a second) become StreamStat output_media_info.
  let info: Record<string, unknown> = {};
  for (let i = 0; i < 50 && typeof info['fps'] !== 'number'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    info = (((await api(base, 'GET', `/streams/${id}`)).body as { stream: Record<string, unknown> }).stream['output_media_info'] ?? {}) as Record<string, unknown>;
  }
  assert.equal(typeof info['fps'], 'number', JSON.stringify(info));
  assert.equal(info['container'], 'mpegts');
  assert.equal(typeof info['speed'], 'number');

  const pid = app.transcoding.engine.pidOf(id)!;
  assert.ok(alive(pid));
  assert.equal((await api(base, 'DELETE', `/streams/${id}`)).status, 200);
  await watcher.done;
  await waitFor(() => !alive(pid), 8_000, 'FFmpeg gone after DELETE');
  assert.equal(app.transcoding.engine.processCount(), 0);
});

test('Default HLS: the playlist and segments FFmpeg writes decode through the proxy; DELETE removes process and directory', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const channel = await makeChannel(t, 'h264', '400k');
  const origin = await startOrigin(t, { '/live/2.ts': paced(channel, 20) });
  const hlsDir = privateHlsDir(t);
  const { base, app } = await startProxy(t, { transcode: { ...DEFAULT_TRANSCODE_CONFIG, ffmpegPath: 'ffmpeg', graceMs: 60_000, hlsDir, hlsWaitMs: 20_000 } });
  const r = await api(base, 'POST', '/transcode', { url: origin.url('/live/2.ts'), profile: EDITOR_DEFAULT_PROFILES.hls });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const id = String((r.body as Record<string, unknown>)['stream_id']);
  const playlist = `${base}/hls/${id}/playlist.m3u8`;
  const first = await fetch(playlist);
  assert.equal(first.status, 200);
  assert.match(await first.text(), /^t\/index\d+\.ts$/m);
  const decoded = await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-i', playlist, '-t', '2', '-f', 'null', '-']);
  assert.equal(decoded.stderr.trim(), '');
  assert.deepEqual([...new Set(await probeStreamTypes(t, playlist))], ['video', 'audio']);
  assert.equal(origin.hits('/live/2.ts').length, 1);
  const pid = app.transcoding.engine.pidOf(id)!;
  assert.equal((await api(base, 'DELETE', `/streams/${id}`)).status, 200);
  await waitFor(() => !alive(pid), 8_000, 'FFmpeg gone after DELETE');
  await waitFor(() => readdirSync(hlsDir).length === 0, 2_000, 'directory removed');
});

test('T5 Default HLS fMP4: init section and .m4s segments through t/, decodable', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const channel = await makeChannel(t, 'h264', '400k');
  const origin = await startOrigin(t, { '/live/3.ts': paced(channel, 20) });
  const { base } = await startProxy(t, { transcode: { ...DEFAULT_TRANSCODE_CONFIG, ffmpegPath: 'ffmpeg', hlsDir: privateHlsDir(t), hlsWaitMs: 20_000 } });
  const r = await api(base, 'POST', '/transcode', { url: origin.url('/live/3.ts'), profile: EDITOR_DEFAULT_PROFILES.hlsFmp4 });
  const id = String((r.body as Record<string, unknown>)['stream_id']);
  const playlist = `${base}/hls/${id}/playlist.m3u8`;
  const text = await (await fetch(playlist)).text();
  assert.match(text, /#EXT-X-MAP:URI="t\/init\.mp4"/);
  assert.match(text, /^t\/index\d+\.m4s$/m);
  const init = await fetch(`${base}/hls/${id}/t/init.mp4`);
  assert.equal(init.status, 200);
  assert.equal(init.headers.get('content-type'), 'video/mp4');
  await init.arrayBuffer();
  const decoded = await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-i', playlist, '-t', '1', '-f', 'null', '-']);
  assert.equal(decoded.stderr.trim(), '');
});

test('E8 the built-in default profile with output_format mp4: one fragmented MP4 per viewer, decodable', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const channel = await makeChannel(t, 'h264', '400k');
  const origin = await startOrigin(t, { '/live/4.ts': paced(channel, 20) });
  const { base, app } = await startProxy(t, { transcode: { ...DEFAULT_TRANSCODE_CONFIG, ffmpegPath: 'ffmpeg', hlsDir: privateHlsDir(t) } });
  const r = await api(base, 'POST', '/transcode', { url: origin.url('/live/4.ts'), profile: 'default', output_format: 'mp4' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const url = `${base}/stream/${String((r.body as Record<string, unknown>)['stream_id'])}`;
  const decoded = await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-i', url, '-t', '1', '-f', 'null', '-']);
  assert.equal(decoded.stderr.trim(), '');
  await waitFor(() => app.transcoding.engine.processCount() === 0, 8_000, 'the viewer took its process');
});
