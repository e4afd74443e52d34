// Broadcast routes and callbacks (research §8 T16–T30, E12, E15–E17) against a fake FFmpeg on FFMPEG_PATH.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createApp } from '../../src/app.ts';
import { silentLogger } from '../../src/log.ts';
import { alive, callbacksOf, editorPayload, scratchDir, sleep, until } from '../helpers/broadcast.ts';
import { fakeFfmpeg, type FakeFfmpegOptions } from '../helpers/fake-ffmpeg.ts';
import { api, startProxy, testConfig } from '../helpers/start-proxy.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

type Json = Record<string, unknown>;
const TOKEN = 'secret';
const H = { 'x-api-token': TOKEN };
const MEDIA = 'http://127.0.0.1:9/Videos/I1/stream.ts?static=true&api_key=K3Y';

async function setup(t: TestContext, fake: FakeFfmpegOptions, extra: Parameters<typeof startProxy>[1] = {}) {
  const ffmpeg = fakeFfmpeg(t, fake);
  const dir = scratchDir('bc-');
  const proxy = await startProxy(t, { apiToken: TOKEN, ffmpegPath: ffmpeg.path, broadcastDir: dir, broadcastStartGraceMs: 300, ...extra });
  const receiver = await startReceiver(t);
  const start = (id: string, over: Json = {}) => api(proxy.base, 'POST', `/broadcast/${id}/start`, editorPayload(MEDIA, receiver.url, over), H);
  return { ffmpeg, dir, proxy, receiver, start, base: proxy.base };
}

test('T16, T17, T25, T24, T30: start, play without token, list masked, stop, files served, delete', async (t) => {
  const { ffmpeg, dir, base, receiver, start } = await setup(t, { segments: -1, delay: 0.1 });
  const r = await start('net-1', { seek_seconds: 1234, duration_seconds: 2366, headers: { 'X-Plex-Token': ' tok ' }, metadata: { title: 'x' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const body = r.body as Json;
  assert.equal(body['status'], 'running');
  assert.equal(typeof body['ffmpeg_pid'], 'number');
  assert.equal(body['current_segment_number'], 0);
  assert.match(String(body['started_at']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
  assert.ok(!String(body['stream_url']).includes('K3Y'), 'api_key masked');
  const pid = body['ffmpeg_pid'] as number;
  const argv = ffmpeg.argsOf(pid);
  const at = (flag: string) => argv[argv.indexOf(flag) + 1];
  assert.ok(argv.indexOf('-ss') < argv.indexOf('-i') && at('-ss') === '1234');
  assert.ok(argv.indexOf('-t') > argv.indexOf('-i') && at('-t') === '2366');
  assert.equal(at('-i'), MEDIA);
  assert.equal(at('-headers'), 'X-Plex-Token: tok\r\n');
  assert.equal(at('-start_number'), '0');
  assert.equal(at('-hls_flags'), 'delete_segments+program_date_time+omit_endlist+independent_segments+temp_file');
  assert.equal(at('-hls_segment_filename'), join(dir, 'broadcast_net-1', 'live%06d.ts'));
  assert.equal(argv.at(-1), join(dir, 'broadcast_net-1', 'live.m3u8'));

  // T30: management needs the token, playback does not.
  assert.equal((await api(base, 'GET', '/broadcast')).status, 401);
  assert.equal((await api(base, 'GET', '/broadcast', undefined, { 'x-api-token': 'wrong' })).status, 403);
  assert.equal((await api(base, 'POST', '/broadcast/net-1/stop')).status, 401);
  assert.equal((await api(base, 'DELETE', '/broadcast/net-1')).status, 401);

  await until(async () => (await fetch(`${base}/broadcast/net-1/live.m3u8`).then((x) => x.text())).includes('live000002.ts'), '3 segments');
  const pl = await fetch(`${base}/broadcast/net-1/live.m3u8`);
  assert.equal(pl.status, 200);
  assert.equal(pl.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  assert.equal(pl.headers.get('cache-control'), 'no-cache, no-store, must-revalidate');
  assert.equal(pl.headers.get('access-control-allow-origin'), '*');
  const uris = (await pl.text()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.ok(uris.length >= 3 && uris.every((u) => /^live\d+\.ts$/.test(u)), uris.join(','));
  const seg = await fetch(`${base}/broadcast/net-1/segment/${uris.at(-1)}`);
  assert.equal(seg.status, 200);
  assert.equal(seg.headers.get('content-type'), 'video/MP2T');
  assert.equal((await seg.arrayBuffer()).byteLength, 1880);
  const viaSegment = await fetch(`${base}/broadcast/net-1/segment/live.m3u8`);
  assert.equal(viaSegment.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  assert.match(await viaSegment.text(), /^#EXTM3U/);
  for (const bad of ['..%2F..%2Fetc%2Fpasswd', '.hidden.ts', 'x.txt', 'live.m3u8.tmp']) {
    assert.equal((await fetch(`${base}/broadcast/net-1/segment/${bad}`).then(async (x) => (await x.arrayBuffer(), x.status))), 404, bad);
  }

  await until(async () => (((await api(base, 'GET', '/broadcast', undefined, H)).body as Json)['broadcasts'] as Json[])[0]?.['bytes_written'] as number > 0, 'bytes counted');
  const list = (await api(base, 'GET', '/broadcast', undefined, H)).body as Json;
  assert.equal(list['count'], 1);
  const item = (list['broadcasts'] as Json[])[0]!;
  assert.deepEqual(Object.keys(item).sort(), ['bytes_written', 'current_segment_number', 'ffmpeg_pid', 'metadata', 'network_id', 'started_at', 'status', 'stream_url']);
  assert.equal(item['stream_url'], 'http://127.0.0.1:9/…/stream.ts?static=***&api_key=***');
  assert.deepEqual(item['metadata'], { title: 'x' });
  const status = (await api(base, 'GET', '/broadcast/net-1/status', undefined, H)).body as Json;
  assert.equal(status['status'], 'running');
  assert.equal(status['hls_dir'], join(dir, 'broadcast_net-1'));
  assert.ok((status['current_segment_number'] as number) >= 2);

  const stop = await api(base, 'POST', '/broadcast/net-1/stop', undefined, H);
  assert.equal(stop.status, 200);
  const last = Math.max(...readdirSync(join(dir, 'broadcast_net-1')).filter((n) => /^live\d+\.ts$/.test(n)).map((n) => Number(n.slice(4, 10))));
  assert.deepEqual(stop.body, { message: 'Broadcast stopped', network_id: 'net-1', final_segment_number: last, status: 'stopped' });
  assert.ok(!alive(pid), 'FFmpeg gone after stop');
  assert.equal((await fetch(`${base}/broadcast/net-1/live.m3u8`).then(async (x) => (await x.text(), x.status))), 200, 'served from disk after stop');
  const again = await api(base, 'POST', '/broadcast/net-1/stop', undefined, H);
  assert.equal(again.status, 404);
  assert.equal((again.body as Json)['detail'], 'Broadcast not found');
  assert.equal((await api(base, 'GET', '/broadcast/net-1/status', undefined, H)).status, 404);
  const del = await api(base, 'DELETE', '/broadcast/net-1', undefined, H);
  assert.deepEqual(del.body, { message: 'Broadcast net-1 cleaned up successfully' });
  assert.ok(!existsSync(join(dir, 'broadcast_net-1')));
  assert.equal((await fetch(`${base}/broadcast/net-1/live.m3u8`).then(async (x) => (await x.text(), x.status))), 404);
  assert.equal((await api(base, 'DELETE', '/broadcast/never', undefined, H)).status, 200, 'DELETE of nothing is fine');
  await sleep(200);
  assert.equal(receiver.deliveries.length, 0, 'no callback for stop or DELETE');
});

test('T18, T19, T20: programme end sends one programme_ended; the next start continues numbering with a discontinuity', async (t) => {
  // 1.2 s programmes: well past the 0.3 s grace even on a loaded machine, so the fourth start below finds the third running.
  const { ffmpeg, base, receiver, start } = await setup(t, { segments: 4, delay: 0.3, exitCode: 0 });
  const first = await start('net-2', { duration_seconds: 1 });
  assert.equal(first.status, 200);
  await receiver.until(() => receiver.deliveries.length >= 1, 'programme_ended');
  const [cb] = callbacksOf(receiver);
  assert.equal(cb!.network_id, 'net-2');
  assert.equal(cb!.event, 'programme_ended');
  assert.equal(cb!.dvr_mode, false);
  assert.equal(cb!.hls_dir, null);
  assert.match(cb!.timestamp, /\+00:00$/);
  assert.equal(cb!.data['exit_code'], 0);
  assert.equal(cb!.data['final_segment_number'], 3);
  assert.equal(typeof cb!.data['duration_streamed'], 'number');
  assert.equal(receiver.deliveries[0]!.headers['user-agent'], 'M3U-Proxy-Broadcast/1.0');
  assert.equal(((await api(base, 'GET', '/broadcast/net-2/status', undefined, H)).body as Json)['status'], 'stopped');

  // T19: the editor's own next start, inside its callback.
  const second = await start('net-2', { segment_start_number: 4, add_discontinuity: true });
  assert.equal(second.status, 200);
  const argv = ffmpeg.argsOf((second.body as Json)['ffmpeg_pid'] as number);
  assert.equal(argv[argv.indexOf('-start_number') + 1], '4');
  assert.match(argv[argv.indexOf('-hls_flags') + 1]!, /\+discont_start$/);
  await receiver.until(() => receiver.deliveries.length >= 2, 'second programme_ended');
  assert.equal(callbacksOf(receiver)[1]!.data['final_segment_number'], 7);

  // T20: a start with segment_start_number 0 on a listed network is a transition.
  const third = await start('net-2', { segment_start_number: 0 });
  const argv3 = ffmpeg.argsOf((third.body as Json)['ffmpeg_pid'] as number);
  assert.equal(argv3[argv3.indexOf('-start_number') + 1], '8');
  assert.match(argv3[argv3.indexOf('-hls_flags') + 1]!, /\+discont_start$/);
  // T20 while running: stop it mid-programme with another start; the replaced one sends nothing.
  const fourth = await start('net-2', { segment_start_number: 0 });
  assert.equal(fourth.status, 200);
  await receiver.until(() => receiver.deliveries.length >= 3, 'fourth programme_ended');
  await sleep(300);
  assert.deepEqual(callbacksOf(receiver).map((c) => c.event), ['programme_ended', 'programme_ended', 'programme_ended']);
});

test('T27: next_stream_config starts the next programme at once; the callback says auto_transitioned with new_pid', async (t) => {
  const { ffmpeg, base, receiver, start } = await setup(t, { segments: 3, delay: 0.15, exitCode: 0 });
  const next = { stream_url: 'http://127.0.0.1:9/Videos/I2/stream.ts', seek_seconds: 0, duration_seconds: 1, segment_duration: 1, hls_list_size: 5 };
  const r = await start('net-3', { next_stream_config: next });
  assert.equal(r.status, 200);
  await receiver.until(() => receiver.deliveries.length >= 1, 'programme_ended');
  const cb = callbacksOf(receiver)[0]!;
  assert.equal(cb.event, 'programme_ended');
  assert.equal(cb.data['auto_transitioned'], true);
  assert.equal(cb.data['final_segment_number'], 2);
  const status = (await api(base, 'GET', '/broadcast/net-3/status', undefined, H)).body as Json;
  assert.equal(cb.data['new_pid'], status['ffmpeg_pid']);
  const argv = ffmpeg.argsOf(cb.data['new_pid'] as number);
  assert.equal(argv[argv.indexOf('-i') + 1], next.stream_url);
  assert.equal(argv[argv.indexOf('-start_number') + 1], '3');
  assert.match(argv[argv.indexOf('-hls_flags') + 1]!, /\+discont_start$/);
  // Not chained: the second programme's end is a plain programme_ended.
  await receiver.until(() => receiver.deliveries.length >= 2, 'second programme_ended');
  assert.equal(callbacksOf(receiver)[1]!.data['auto_transitioned'], undefined);
});

test('T21, exit 126 late: exactly one broadcast_failed with exit_code and error_type', async (t) => {
  for (const code of [8, 126]) {
    const { receiver, start } = await setup(t, { segments: 3, delay: 0.3, exitCode: code, lastWords: 'Server returned 5XX Server Error reply' });
    assert.equal((await start(`net-f${code}`)).status, 200);
    await receiver.until(() => receiver.deliveries.length >= 1, 'broadcast_failed');
    await sleep(300);
    const cbs = callbacksOf(receiver);
    assert.equal(cbs.length, 1, JSON.stringify(cbs));
    assert.equal(cbs[0]!.event, 'broadcast_failed');
    assert.equal(cbs[0]!.data['exit_code'], code);
    assert.equal(cbs[0]!.data['final_segment_number'], 2);
    assert.equal(cbs[0]!.data['error_type'], 'ffmpeg_exited');
    assert.match(String(cbs[0]!.data['error']), new RegExp(`^FFmpeg exited with code ${code}: Server returned 5XX`));
  }
});

test('T22, T23: a failure within the grace answers 500 with a string detail and sends no callback', async (t) => {
  for (const code of [1, 126]) {
    // A generous grace: the fake exits at once, and must do so inside it even on a loaded machine.
    const { base, receiver, start } = await setup(t, { segments: 0, exitCode: code, lastWords: 'Error opening input http://h/x?api_key=K3Y' }, { broadcastStartGraceMs: 1500 });
    const r = await start(`net-e${code}`);
    assert.equal(r.status, 500);
    const detail = (r.body as Json)['detail'];
    assert.equal(typeof detail, 'string');
    assert.match(String(detail), new RegExp(`failed shortly after start: FFmpeg exited with code ${code}: Error opening input <url>`));
    await sleep(400);
    assert.equal(receiver.deliveries.length, 0);
    assert.equal((await api(base, 'GET', `/broadcast/net-e${code}/status`, undefined, H)).status, 404);
  }
  const missing = await startProxy(t, { apiToken: TOKEN, ffmpegPath: '/nonexistent/ffmpeg', broadcastDir: scratchDir('bc-') });
  const r = await api(missing.base, 'POST', '/broadcast/net-x/start', editorPayload(MEDIA, null), H);
  assert.equal(r.status, 500);
  assert.match(String((r.body as Json)['detail']), /ffmpeg not found/);
});

test('E15: 1 MB of stderr is drained and the broadcast goes on', async (t) => {
  const { base, start } = await setup(t, { segments: -1, delay: 0.1, stderrFlood: 1024 * 1024 });
  assert.equal((await start('net-flood')).status, 200);
  await until(async () => (await fetch(`${base}/broadcast/net-flood/live.m3u8`).then((x) => x.text())).includes('live000010.ts'), 'segments after the flood', 20_000);
  assert.equal(((await api(base, 'GET', '/broadcast/net-flood/status', undefined, H)).body as Json)['status'], 'running');
});

test('E16, E17, validation: bad network ids 400; output_dir only when allowed; argv values checked', async (t) => {
  const allowed = scratchDir('bc-allowed-');
  const { base, start } = await setup(t, { segments: -1, delay: 0.1 }, { broadcastAllowedDirs: [allowed] });
  for (const id of ['..%2Fx', 'a'.repeat(65), 'a%20b']) {
    assert.equal((await api(base, 'POST', `/broadcast/${id}/start`, editorPayload(MEDIA, null), H)).status, 400, id);
    assert.equal((await api(base, 'GET', `/broadcast/${id}/live.m3u8`)).status, 400, id);
  }
  assert.equal((await start('net-v', { output_dir: '/etc' })).status, 400, 'E17: a disallowed output_dir is a 400');
  assert.equal((await start('net-v', { video_resolution: '1,movie=/etc/passwd' })).status, 422);
  assert.equal((await start('net-v', { headers: { A: { b: 1 } } })).status, 422);
  assert.equal((await start('net-v', { stream_url: 'file:///etc/passwd' })).status, 422);
  assert.equal((await start('net-v', { segment_start_number: -1 })).status, 422);

  const r = await start('net-od', { output_dir: allowed });
  assert.equal(r.status, 200);
  assert.equal((r.body as Json)['hls_dir'], join(allowed, 'broadcast_net-od'));
  await until(() => existsSync(join(allowed, 'broadcast_net-od', 'live000001.ts')), 'segments in output_dir');
  assert.equal((await api(base, 'POST', '/broadcast/net-od/stop', undefined, H)).status, 200);
  assert.equal((await fetch(`${base}/broadcast/net-od/segment/live000001.ts`).then(async (x) => (await x.arrayBuffer(), x.status))), 200);
  assert.equal((await api(base, 'DELETE', '/broadcast/net-od', undefined, H)).status, 200);
  assert.ok(!existsSync(join(allowed, 'broadcast_net-od')));
});

test('T26: ten networks started at once all answer (default 3 s grace, one lock per network)', async (t) => {
  const { base, start } = await setup(t, { segments: -1, delay: 0.2 }, { broadcastStartGraceMs: 3000 });
  const began = performance.now();
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => start(`boot-${i}`)));
  const elapsed = performance.now() - began;
  console.log(`ten simultaneous broadcast starts answered in ${(elapsed / 1000).toFixed(2)} s (grace 3 s)`);
  assert.deepEqual(answers.map((a) => a.status), Array(10).fill(200));
  const pids = new Set(answers.map((a) => (a.body as Json)['ffmpeg_pid']));
  assert.equal(pids.size, 10);
  assert.equal(((await api(base, 'GET', '/broadcast', undefined, H)).body as Json)['count'], 10);
});

test('E12: closing the proxy stops every FFmpeg without callbacks; after a restart status is 404 and files still play', async (t) => {
  const ffmpeg = fakeFfmpeg(t, { segments: -1, delay: 0.1 });
  const dir = scratchDir('bc-');
  const receiver = await startReceiver(t);
  const config = testConfig({ apiToken: TOKEN, ffmpegPath: ffmpeg.path, broadcastDir: dir, broadcastStartGraceMs: 300 });
  const first = createApp(config, { logger: silentLogger });
  t.after(() => first.close(100));
  const port = await first.listen(0, '127.0.0.1');
  const r = await api(`http://127.0.0.1:${port}`, 'POST', '/broadcast/net-r/start', editorPayload(MEDIA, receiver.url), H);
  const pid = (r.body as Json)['ffmpeg_pid'] as number;
  await until(() => existsSync(join(dir, 'broadcast_net-r', 'live.m3u8')), 'a playlist');
  await first.close(100);
  assert.ok(!alive(pid), 'no FFmpeg outlives the proxy');
  const { base } = await startProxy(t, config);
  assert.equal((await api(base, 'GET', '/broadcast/net-r/status', undefined, H)).status, 404);
  assert.equal((await fetch(`${base}/broadcast/net-r/live.m3u8`).then(async (x) => (await x.text(), x.status))), 200);
  await sleep(200);
  assert.equal(receiver.deliveries.length, 0);
});

test('E17 after a restart: files an output_dir received are still served and DELETE still removes them', async (t) => {
  const ffmpeg = fakeFfmpeg(t, { segments: -1, delay: 0.1 });
  const allowed = scratchDir('bc-allowed-');
  const config = testConfig({ apiToken: TOKEN, ffmpegPath: ffmpeg.path, broadcastDir: scratchDir('bc-'), broadcastAllowedDirs: [allowed], broadcastStartGraceMs: 300 });
  const first = createApp(config, { logger: silentLogger });
  t.after(() => first.close(100));
  const port = await first.listen(0, '127.0.0.1');
  assert.equal((await api(`http://127.0.0.1:${port}`, 'POST', '/broadcast/net-o/start', editorPayload(MEDIA, null, { output_dir: allowed }), H)).status, 200);
  await until(() => existsSync(join(allowed, 'broadcast_net-o', 'live000001.ts')), 'segments');
  await first.close(100);
  const { base } = await startProxy(t, config);
  assert.equal((await fetch(`${base}/broadcast/net-o/live.m3u8`).then(async (x) => (await x.text(), x.status))), 200);
  assert.equal((await fetch(`${base}/broadcast/net-o/segment/live000001.ts`).then(async (x) => (await x.arrayBuffer(), x.status))), 200);
  assert.equal((await api(base, 'DELETE', '/broadcast/net-o', undefined, H)).status, 200);
  assert.ok(!existsSync(join(allowed, 'broadcast_net-o')));
});
