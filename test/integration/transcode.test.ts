// POST /transcode and playback of transcodes with a fake FFmpeg (research §8 T1–T3, T9, T10, E3–E6, E13): one
// process per stream shared by its viewers, stopped after the grace, at once on DELETE and by-metadata deletes.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { DEFAULT_TRANSCODE_CONFIG, type TranscodeConfig } from '../../src/config-transcode.ts';
import type { ProxyEvent } from '../../src/core/events.ts';
import { EDITOR_DEFAULT_PROFILES } from '../../src/services/transcode/profiles.ts';
import { alive, FAKE_STREAM, fakeProgram, privateHlsDir, tsFixture } from '../helpers/fake-program.ts';
import { waitFor } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { openSse } from '../helpers/sse.ts';
import { api, startProxy, testConfig, type RunningProxy } from '../helpers/start-proxy.ts';
import { createApp, loadState } from '../../src/app.ts';
import { silentLogger } from '../../src/log.ts';
import { join } from 'node:path';
import { existsSync, readlinkSync, rmSync } from 'node:fs';

type Json = Record<string, unknown>;
const SOURCE = 'http://prov.example:8080/live/user/pass/123.ts';
const EDITOR_META = { id: 7, channel_id: '7', type: 'channel', playlist_uuid: 'pl-1', profile_id: 5, original_channel_id: 7, original_playlist_uuid: 'pl-1', is_failover: false, strict_live_ts: false };

async function proxyWith(t: TestContext, transcode: Partial<TranscodeConfig>): Promise<RunningProxy> {
  return startProxy(t, { transcode: { ...DEFAULT_TRANSCODE_CONFIG, graceMs: 100, hlsDir: privateHlsDir(t), ...transcode } });
}

async function create(base: string, body: Json): Promise<Json> {
  const r = await api(base, 'POST', '/transcode', body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as Json;
}

test('T1/T2/T3 the editor payload: answer, pooling metadata, masked args; the first viewer starts one FFmpeg', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const { base, app } = await proxyWith(t, { ffmpegPath: ffmpeg.path });
  const body = await create(base, { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live, metadata: EDITOR_META, user_agent: 'EditorUA/1' });
  const id = String(body['stream_id']);
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(body['stream_type'], 'transcoded');
  assert.equal(body['format'], 'mpegts');
  assert.equal(body['stream_endpoint'], `/stream/${id}`);
  assert.equal(body['profile'], 'custom');
  assert.ok(!JSON.stringify(body['ffmpeg_args']).includes('pass'), 'the input URL is masked');
  assert.equal(ffmpeg.starts().length, 0, 'no process before the first viewer');

  const player = await openPlayer(t, `${base}/stream/${id}`);
  assert.equal(player.res.statusCode, 200);
  assert.equal(player.res.headers['content-type'], 'video/mp2t');
  assert.equal(player.res.headers['accept-ranges'], 'none');
  await player.waitBytes(tsFixture().length);
  assert.deepEqual(player.body().subarray(0, 188), tsFixture().subarray(0, 188), 'starts with the fake FFmpeg PAT');

  const argv = ffmpeg.starts()[0]!;
  const s = argv.join(' ');
  const cwd = readlinkSync(`/proc/${ffmpeg.pids()[0]!}/cwd`);
  assert.match(cwd, /m3u_proxy_run_/, 'the process runs in a private directory');
  assert.ok(argv.includes('-nostdin'));
  assert.equal(argv[argv.indexOf('-user_agent') + 1], 'EditorUA/1');
  assert.equal(argv[argv.indexOf('-i') + 1], SOURCE);
  assert.ok(argv.indexOf('-user_agent') < argv.indexOf('-i'));
  assert.match(s, /-map 0:v:0\? -map 0:a:0\? .*-b:v 2000k -maxrate 2500k -bufsize 2500k -c:a aac -b:a 128k -f mpegts pipe:1$/);
  assert.ok(!s.includes('{'));

  const found = await api(base, 'GET', '/streams/by-metadata?field=original_channel_id&value=7&active_only=1');
  const m = ((found.body as Json)['matching_streams'] as Json[])[0]!;
  const meta = m['metadata'] as Json;
  assert.equal(meta['transcoding'], 'true');
  assert.equal(meta['profile_id'], '5');
  assert.equal(meta['is_failover'], 'False');
  assert.equal(meta['original_playlist_uuid'], 'pl-1');
  assert.ok(String(meta['ffmpeg_args']).includes('-i <input>'));
  assert.ok(!String(meta['ffmpeg_args']).includes(SOURCE));
  assert.equal(m['client_count'], 1);
  const stat = (await api(base, 'GET', `/streams/${id}`)).body as Json;
  assert.equal((stat['stream'] as Json)['upstream_connections'], 1);
  assert.ok('output_media_info' in (stat['stream'] as Json));
  assert.equal(app.transcoding.engine.processCount(), 1);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /^m3u_proxy_transcode_processes 1$/m);
  assert.equal((await api(base, 'DELETE', `/streams/${id}`)).status, 200);
  await waitFor(() => !existsSync(cwd), 8_000, 'the private directory goes with the process');
});

test('two viewers share one process; the last leaving stops it after the grace; a viewer back within it reuses it', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const { base, app } = await proxyWith(t, { ffmpegPath: ffmpeg.path, graceMs: 400 });
  const events: ProxyEvent[] = [];
  app.bus.subscribe((e) => events.push(e));
  const id = String((await create(base, { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live }))['stream_id']);
  const a = await openPlayer(t, `${base}/stream/${id}`);
  const b = await openPlayer(t, `${base}/stream/${id}`);
  await a.waitBytes(10_000);
  await b.waitBytes(10_000);
  assert.equal(ffmpeg.starts().length, 1, 'one FFmpeg for two viewers');
  assert.equal(b.body()[0], 0x47, 'the late joiner starts at a packet boundary');
  assert.equal(b.body().length % 188 === 0 || b.body()[188] === 0x47, true);
  const pid = ffmpeg.pids()[0]!;
  a.leave();
  b.leave();
  // E6: back within the grace: the same process.
  const c = await openPlayer(t, `${base}/stream/${id}`);
  await c.waitBytes(1000);
  assert.equal(ffmpeg.starts().length, 1);
  c.leave();
  await waitFor(() => !alive(pid), 8_000, 'FFmpeg stopped after the grace');
  // E5: events once per transition, as for any stream (started and stopped alternate).
  const kinds = events.filter((e) => e.event_type === 'stream_started' || e.event_type === 'stream_stopped').map((e) => `${e.event_type}:${String(e.data['reason'] ?? '')}`);
  assert.deepEqual(kinds, ['stream_started:', 'stream_stopped:last_client_disconnected', 'stream_started:', 'stream_stopped:last_client_disconnected']);
  assert.equal(events.filter((e) => e.event_type === 'client_disconnected').length, 3);
});

test('E13 DELETE /streams/{id} and DELETE /streams/by-metadata stop the process at once; the count drops at once', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const { base, app } = await proxyWith(t, { ffmpegPath: ffmpeg.path, graceMs: 60_000 });
  const events: ProxyEvent[] = [];
  app.bus.subscribe((e) => events.push(e));
  const one = String((await create(base, { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live, metadata: { profile_id: 9 } }))['stream_id']);
  const two = String((await create(base, { url: SOURCE + '?b', profile: EDITOR_DEFAULT_PROFILES.live, metadata: { profile_id: 9 } }))['stream_id']);
  const p1 = await openPlayer(t, `${base}/stream/${one}`);
  const p2 = await openPlayer(t, `${base}/stream/${two}`);
  await p1.waitBytes(1000);
  await p2.waitBytes(1000);
  const [pid1, pid2] = [app.transcoding.engine.pidOf(one)!, app.transcoding.engine.pidOf(two)!];
  assert.ok(alive(pid1) && alive(pid2));
  assert.equal((await api(base, 'DELETE', `/streams/${one}`)).status, 200);
  await waitFor(() => !alive(pid1), 8_000, 'FFmpeg of the deleted stream gone');
  await p1.done;
  const oldest = await api(base, 'DELETE', '/streams/oldest-by-metadata?field=profile_id&value=9');
  assert.equal((oldest.body as Json)['deleted_count'], 1);
  const count = await api(base, 'GET', '/streams/by-metadata?field=profile_id&value=9&active_only=1');
  assert.equal((count.body as Json)['total_matching'], 0, 'the editor limit loop sees the slot free at once');
  await waitFor(() => !alive(pid2), 8_000, 'FFmpeg of the second stream gone');
  assert.equal(events.filter((e) => e.event_type === 'stream_stopped').length, 2);
});

test('E3 exit before output: 502 TRANSCODE_FAILED with the last stderr line, URLs masked; a failover URL is tried once', async (t) => {
  const ffmpeg = fakeProgram(t, `case "$*" in *bad*) echo "[http @ 0x1] http://u:p@bad.example/x: Server returned 403 Forbidden" >&2; exit 1;; esac\n${FAKE_STREAM}`);
  const { base, app } = await proxyWith(t, { ffmpegPath: ffmpeg.path });
  const failed = String((await create(base, { url: 'http://bad.example/x.ts', profile: EDITOR_DEFAULT_PROFILES.live }))['stream_id']);
  const r = await api(base, 'GET', `/stream/${failed}`);
  assert.equal(r.status, 502);
  assert.equal((r.body as Json)['code'], 'TRANSCODE_FAILED');
  assert.equal((r.body as Json)['detail'], 'transcoder exited (1): [http @ 0x1] <url> Server returned 403 Forbidden');

  const events: ProxyEvent[] = [];
  app.bus.subscribe((e) => events.push(e));
  const id = String((await create(base, { url: 'http://bad.example/y.ts', failover_urls: ['http://good.example/y.ts'], profile: EDITOR_DEFAULT_PROFILES.live }))['stream_id']);
  const player = await openPlayer(t, `${base}/stream/${id}`);
  assert.equal(player.res.statusCode, 200);
  await player.waitBytes(1000);
  assert.equal(events.filter((e) => e.event_type === 'failover_triggered').length, 1);
  assert.equal(((await api(base, 'GET', `/streams/${id}`)).body as { stream: Json }).stream['current_failover_index'], 1);
});

test('E4 no output within TRANSCODE_START_TIMEOUT: 504, process killed; capacity 503; a stderr flood is drained', async (t) => {
  const stall = fakeProgram(t, 'sleep 30');
  const { base } = await proxyWith(t, { ffmpegPath: stall.path, startTimeoutMs: 300 });
  const id = String((await create(base, { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live }))['stream_id']);
  const r = await api(base, 'GET', `/stream/${id}`);
  assert.equal(r.status, 504);
  assert.equal((r.body as Json)['code'], 'TRANSCODE_TIMEOUT');
  await waitFor(() => !alive(stall.pids()[0]!), 8_000, 'stalled FFmpeg killed');

  // 2 MB of stderr before and while streaming: drained, the viewer plays.
  const flood = fakeProgram(t, `i=0; while [ $i -lt 20000 ]; do echo "warning line $i http://x/y with words to fill the pipe" >&2; i=$((i+1)); done\n${FAKE_STREAM}`);
  const p2 = await proxyWith(t, { ffmpegPath: flood.path, maxProcesses: 1, startTimeoutMs: 20_000 });
  const a = String((await create(p2.base, { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live }))['stream_id']);
  const b = String((await create(p2.base, { url: SOURCE + '?2', profile: EDITOR_DEFAULT_PROFILES.live }))['stream_id']);
  const viewer = await openPlayer(t, `${p2.base}/stream/${a}`);
  await viewer.waitBytes(10_000, 20_000);
  const refused = await api(p2.base, 'GET', `/stream/${b}`);
  assert.equal(refused.status, 503);
  assert.equal((refused.body as Json)['code'], 'TRANSCODE_CAPACITY');
  const joined = await openPlayer(t, `${p2.base}/stream/${a}`);
  assert.equal(joined.res.statusCode, 200, 'joining a running process is always allowed');
});

test('T9/T10/E1 bad profiles: 400 naming the problem, nothing spawned; missing FFmpeg: FFMPEG_NOT_FOUND', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const { base } = await proxyWith(t, { ffmpegPath: ffmpeg.path });
  const cases: [Json, RegExp][] = [
    [{ profile: 'nosuch' }, /^Profile 'nosuch' not found\. Available profiles: default, hq, lowlatency, 720p, 1080p, hevc, audio$/],
    [{ profile: '-c:v libx264 -f mpegts pipe:1' }, /-i \{input_url\}/],
    [{ profile: '-i {input_url} -vf "scale=1' }, /unbalanced double quote/],
    [{ profile: '-i {input_url} -b:v {foo} -f mpegts pipe:1' }, /\{foo\}/],
    [{ profile: '-i {input_url} -i /etc/passwd -f mpegts pipe:1' }, /local files/],
  ];
  for (const [extra, re] of cases) {
    const r = await api(base, 'POST', '/transcode', { url: SOURCE, ...extra });
    assert.equal(r.status, 400, JSON.stringify(extra));
    assert.match(String((r.body as Json)['detail']), re);
  }
  assert.equal((await api(base, 'POST', '/transcode', { url: SOURCE, resolver: 'vlc' })).status, 422);
  assert.equal((await api(base, 'POST', '/transcode', { url: 'file:///etc/passwd' })).status, 422);
  assert.equal(ffmpeg.starts().length, 0);

  const missing = await proxyWith(t, { ffmpegPath: '/nonexistent/ffmpeg', streamlinkPath: '/nonexistent/streamlink', ytdlpPath: '/nonexistent/yt-dlp' });
  for (const [body, code] of [
    [{ url: SOURCE }, 'FFMPEG_NOT_FOUND'],
    [{ url: SOURCE, resolver: 'streamlink' }, 'STREAMLINK_NOT_FOUND'],
    [{ url: SOURCE, resolver: 'ytdlp' }, 'YTDLP_NOT_FOUND'],
  ] as const) {
    const r = await api(missing.base, 'POST', '/transcode', body);
    assert.equal(r.status, 503);
    assert.equal((r.body as Json)['code'], code);
  }
});

test('HEAD answers locally without a process; shutdown leaves no FFmpeg', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const { base, app } = await proxyWith(t, { ffmpegPath: ffmpeg.path, graceMs: 60_000 });
  const id = String((await create(base, { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live }))['stream_id']);
  const head = await fetch(`${base}/stream/${id}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), 'video/mp2t');
  assert.equal(ffmpeg.starts().length, 0);
  const player = await openPlayer(t, `${base}/stream/${id}`);
  await player.waitBytes(1000);
  const pid = ffmpeg.pids()[0]!;
  await app.close(100);
  assert.equal(alive(pid), false, 'stopped before close() resolved');
});

test('GET /transcode/profiles lists the built-in profiles', async (t) => {
  const { base } = await proxyWith(t, {});
  const r = await api(base, 'GET', '/transcode/profiles');
  assert.equal(r.status, 200);
  const names = ((r.body as Json)['profiles'] as Json[]).map((p) => p['name']);
  assert.deepEqual(names, ['default', 'hq', 'lowlatency', '720p', '1080p', 'hevc', 'audio']);
  assert.deepEqual((r.body as Json)['hardware_acceleration'], { available: false, type: 'cpu' });
});

test('T15 /info: program versions or null, transcoding.enabled only with FFmpeg found, hardware acceleration honest', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const found = (await api((await proxyWith(t, { ffmpegPath: ffmpeg.path, streamlinkPath: '/nonexistent/streamlink', ytdlpEnabled: false })).base, 'GET', '/info')).body as Json;
  assert.equal(found['ffmpeg_version'], 'fake version 1.0');
  assert.equal(found['streamlink_version'], null);
  assert.equal(found['ytdlp_version'], null);
  assert.equal((found['transcoding'] as Json)['enabled'], true);
  assert.equal((found['capabilities'] as Json)['transcoding'], true);
  assert.equal((found['hardware_acceleration'] as Json)['enabled'], false);
  const missing = (await api((await proxyWith(t, { ffmpegPath: '/nonexistent/ffmpeg' })).base, 'GET', '/info')).body as Json;
  assert.equal(missing['ffmpeg_version'], null);
  assert.equal((missing['transcoding'] as Json)['enabled'], false);
});

test('transcodes are not saved in the state file (memory only): after a restart 404 until created again; the file still loads', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const stateFile = join(ffmpeg.dir, 'state.json');
  const config = testConfig({ stateFile, transcode: { ...DEFAULT_TRANSCODE_CONFIG, ffmpegPath: ffmpeg.path, hlsDir: privateHlsDir(t) } });
  const first = createApp(config, { logger: silentLogger, state: await loadState(config) });
  t.after(() => first.close(100));
  const base1 = `http://127.0.0.1:${await first.listen(0, '127.0.0.1')}`;
  const payload = { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live };
  const id = String((await create(base1, payload))['stream_id']);
  await first.close(100);
  const second = createApp(config, { logger: silentLogger, state: await loadState(config) });
  t.after(() => second.close(100));
  const base2 = `http://127.0.0.1:${await second.listen(0, '127.0.0.1')}`;
  const gone = await api(base2, 'GET', `/stream/${id}`);
  assert.equal(gone.status, 404);
  assert.equal((gone.body as Json)['code'], 'NOT_FOUND');
  assert.equal(String((await create(base2, payload))['stream_id']), id);
  const player = await openPlayer(t, `${base2}/stream/${id}`);
  await player.waitBytes(1000);
});

test('a player that leaves while its process starts does not leave the process running', async (t) => {
  const ffmpeg = fakeProgram(t, `sleep 0.5\n${FAKE_STREAM}`);
  const { base } = await proxyWith(t, { ffmpegPath: ffmpeg.path, graceMs: 100 });
  const id = String((await create(base, { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live }))['stream_id']);
  const ac = new AbortController();
  const gone = fetch(`${base}/stream/${id}`, { signal: ac.signal }).catch((err: unknown) => err);
  await waitFor(() => ffmpeg.pids().length === 1, 5_000, 'the process started');
  ac.abort();
  await gone;
  const pid = ffmpeg.pids()[0]!;
  await waitFor(() => !alive(pid), 8_000, 'the process stopped with nobody watching');
});

test('T30 tokens: the management routes need API_TOKEN, playback does not', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const { base } = await startProxy(t, { apiToken: 'tok', transcode: { ...DEFAULT_TRANSCODE_CONFIG, ffmpegPath: ffmpeg.path, hlsDir: privateHlsDir(t) } });
  for (const [method, path] of [['POST', '/transcode'], ['GET', '/transcode/profiles'], ['GET', '/validate-cookies-file?path=/x']] as const) {
    assert.equal((await api(base, method, path, method === 'POST' ? { url: SOURCE } : undefined)).status, 401, path);
    assert.equal((await api(base, method, path, method === 'POST' ? { url: SOURCE } : undefined, { 'x-api-token': 'bad' })).status, 403, path);
  }
  const r = await api(base, 'POST', '/transcode', { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live }, { 'x-api-token': 'tok' });
  assert.equal(r.status, 200);
  const player = await openPlayer(t, `${base}/stream/${String((r.body as Json)['stream_id'])}`);
  assert.equal(player.res.statusCode, 200);
  await player.waitBytes(1000);
});

test('the dashboard feed lists a running transcode (pid, origin-only input, bytes, stop = DELETE the stream)', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const { base } = await proxyWith(t, { ffmpegPath: ffmpeg.path, graceMs: 60_000 });
  const id = String((await create(base, { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live }))['stream_id']);
  const player = await openPlayer(t, `${base}/stream/${id}`);
  await player.waitBytes(10_000);
  const feed = await openSse(t, `${base}/ui/events`);
  type Group = { kind: string; total: number; items: Json[] };
  const snap = await feed.next<{ processes: Group[]; streams: Json[] }>((s) => s.processes.some((g) => g.kind === 'transcode' && g.total === 1));
  const item = snap.processes.find((g) => g.kind === 'transcode')!.items[0]!;
  assert.equal(item['id'], id);
  assert.equal(item['pid'], ffmpeg.pids()[0]);
  assert.equal(item['status'], 'running');
  assert.equal(item['stream_url'], 'http://prov.example:8080/…', 'no path or query: provider keys never reach the page');
  assert.ok(Number(item['bytes_written']) >= 10_000);
  assert.deepEqual(item['stop'], { method: 'DELETE', path: `streams/${id}` });
  feed.close();
});

test('E2 a program gone after the stream was created: playing answers 502 FFMPEG_NOT_FOUND', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const { base } = await proxyWith(t, { ffmpegPath: ffmpeg.path });
  const id = String((await create(base, { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live }))['stream_id']);
  rmSync(ffmpeg.path);
  const r = await api(base, 'GET', `/stream/${id}`);
  assert.equal(r.status, 502);
  assert.equal((r.body as Json)['code'], 'FFMPEG_NOT_FOUND');
});
