// Broadcast callbacks against awkward receivers (T29, SPEC §14) and DVR mode, with a fake FFmpeg on FFMPEG_PATH.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createApp } from '../../src/app.ts';
import { silentLogger } from '../../src/log.ts';
import { callbacksOf, editorPayload, scratchDir, sleep, type BroadcastCallback, until } from '../helpers/broadcast.ts';
import { fakeFfmpeg } from '../helpers/fake-ffmpeg.ts';
import { api, startProxy, testConfig } from '../helpers/start-proxy.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

type Json = Record<string, unknown>;
const TOKEN = 'secret';
const H = { 'x-api-token': TOKEN };
const MEDIA = 'http://127.0.0.1:9/Videos/I1/stream.ts?api_key=K';

async function listen(t: TestContext, server: Server, port = 0): Promise<number> {
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

test('T29: a receiver that refuses connections gets the callback once it is up (retried, delivered once)', async (t) => {
  const ffmpeg = fakeFfmpeg(t, { segments: 4, delay: 0.15, exitCode: 0 });
  const probe = createServer();
  const port = await listen(t, probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const app = createApp(testConfig({ apiToken: TOKEN, ffmpegPath: ffmpeg.path, broadcastDir: scratchDir('bc-'), broadcastStartGraceMs: 300 }), {
    logger: silentLogger,
    broadcastCallbackBackoffMs: [500, 500, 500],
  });
  t.after(() => app.close(100));
  const base = `http://127.0.0.1:${await app.listen(0, '127.0.0.1')}`;
  const got: BroadcastCallback[] = [];
  assert.equal((await api(base, 'POST', '/broadcast/net-r/start', editorPayload(MEDIA, `http://127.0.0.1:${port}/cb`), H)).status, 200);
  await until(async () => ((await api(base, 'GET', '/broadcast/net-r/status', undefined, H)).body as Json)['status'] === 'stopped', 'programme end');
  await sleep(100); // the first attempt has been refused by now
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push(JSON.parse(body) as BroadcastCallback);
      res.end('{"status":"ok"}');
    });
  });
  await listen(t, receiver, port);
  await until(() => got.length >= 1, 'the retried callback', 5_000);
  await sleep(1_200);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.event, 'programme_ended');
});

test('a receiver that never answers times out once, is not retried, and blocks neither other networks nor a stop', async (t) => {
  const ffmpeg = fakeFfmpeg(t, { segments: 3, delay: 0.15, exitCode: 0 });
  const { base } = await startProxy(t, { apiToken: TOKEN, ffmpegPath: ffmpeg.path, broadcastDir: scratchDir('bc-'), broadcastStartGraceMs: 300, broadcastCallbackTimeoutMs: 300 });
  const receiver = await startReceiver(t, { kind: 'hang' });
  assert.equal((await api(base, 'POST', '/broadcast/slow/start', editorPayload(MEDIA, receiver.url), H)).status, 200);
  await receiver.until(() => receiver.deliveries.length >= 1, 'the held callback');
  // While the callback hangs: another network starts, and the first one restarts and stops.
  assert.equal((await api(base, 'POST', '/broadcast/other/start', editorPayload(MEDIA, null), H)).status, 200);
  assert.equal((await api(base, 'POST', '/broadcast/slow/start', editorPayload(MEDIA, null, { segment_start_number: 3, add_discontinuity: true }), H)).status, 200);
  assert.equal((await api(base, 'POST', '/broadcast/slow/stop', undefined, H)).status, 200);
  await sleep(1_000);
  assert.equal(receiver.deliveries.length, 1, 'a timed-out callback is not sent again');
});

test('DVR: files under DVR_RECORDING_DIR, every segment kept, callbacks carry hls_dir, served after stop, DELETE removes them', async (t) => {
  const ffmpeg = fakeFfmpeg(t, { segments: 3, delay: 0.15, exitCode: 0 });
  const dvrDir = scratchDir('bc-dvr-');
  const { base } = await startProxy(t, { apiToken: TOKEN, ffmpegPath: ffmpeg.path, broadcastDir: scratchDir('bc-'), dvrDir, broadcastStartGraceMs: 300 });
  const receiver = await startReceiver(t);
  const r = await api(base, 'POST', '/broadcast/rec-1/start', {
    stream_url: MEDIA, duration_seconds: 1, dvr_mode: true, hls_list_size: 20, callback_url: receiver.url,
    metadata: { type: 'dvr', recording_id: 'rec-1', recording_db_id: '7', title: 'News' },
  }, H);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const dir = join(dvrDir, 'broadcast_rec-1');
  assert.equal((r.body as Json)['hls_dir'], dir);
  const argv = ffmpeg.argsOf((r.body as Json)['ffmpeg_pid'] as number);
  assert.equal(argv[argv.indexOf('-hls_list_size') + 1], '0');
  assert.ok(!argv[argv.indexOf('-hls_flags') + 1]!.includes('delete_segments'));
  await receiver.until(() => receiver.deliveries.length >= 1, 'programme_ended');
  const cb = callbacksOf(receiver)[0]!;
  assert.equal(cb.dvr_mode, true);
  assert.equal(cb.hls_dir, dir);
  assert.equal(cb.event, 'programme_ended');
  assert.equal(cb.data['recording_db_id'], '7', 'the editor finds the recording by data.recording_db_id');
  assert.equal(receiver.deliveries[0]!.headers['x-api-token'], TOKEN, 'the DVR receiver checks the proxy token');
  assert.equal((await api(base, 'POST', '/broadcast/rec-1/stop', undefined, H)).status, 200);
  await sleep(300);
  assert.equal(receiver.deliveries.length, 1, 'a stop after the recording ended sends no recording_stopped');
  assert.equal((await fetch(`${base}/broadcast/rec-1/segment/live000000.ts`).then(async (x) => (await x.arrayBuffer(), x.status))), 200);
  assert.equal((await api(base, 'DELETE', '/broadcast/rec-1', undefined, H)).status, 200);
  assert.ok(!existsSync(dir));
});

test('DVR: a manual stop of a running recording sends one recording_stopped with X-API-Token; Network callbacks carry no token', async (t) => {
  const ffmpeg = fakeFfmpeg(t, { segments: -1, delay: 0.1 });
  const { base } = await startProxy(t, { apiToken: TOKEN, ffmpegPath: ffmpeg.path, broadcastDir: scratchDir('bc-'), dvrDir: scratchDir('bc-dvr-'), broadcastStartGraceMs: 300 });
  const receiver = await startReceiver(t);
  const r = await api(base, 'POST', '/broadcast/rec-2/start', {
    stream_url: MEDIA, dvr_mode: true, hls_list_size: 0, callback_url: receiver.url, metadata: { type: 'dvr', recording_id: 'rec-2', recording_db_id: '8' },
  }, H);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await until(async () => Number(((await api(base, 'GET', '/broadcast/rec-2/status', undefined, H)).body as Json)['current_segment_number']) >= 2, 'segments');
  const stop = await api(base, 'POST', '/broadcast/rec-2/stop', undefined, H);
  assert.equal(stop.status, 200);
  await receiver.until(() => receiver.deliveries.length >= 1, 'recording_stopped');
  await sleep(300);
  assert.equal(receiver.deliveries.length, 1, 'exactly one event for the stop');
  const cb = callbacksOf(receiver)[0]!;
  assert.equal(cb.event, 'recording_stopped');
  assert.equal(cb.network_id, 'rec-2');
  assert.equal(cb.data['recording_db_id'], '8');
  assert.equal(cb.data['final_segment_number'], (stop.body as Json)['final_segment_number']);
  assert.equal(typeof cb.data['duration_streamed'], 'number');
  assert.equal(receiver.deliveries[0]!.headers['x-api-token'], TOKEN);

  // A Network programme end goes to the editor's open receiver: no token, no DVR ids, and a stop sends nothing.
  const net = fakeFfmpeg(t, { segments: 2, delay: 0.1, exitCode: 0 });
  const other = await startProxy(t, { apiToken: TOKEN, ffmpegPath: net.path, broadcastDir: scratchDir('bc-'), broadcastStartGraceMs: 300 });
  const netReceiver = await startReceiver(t);
  assert.equal((await api(other.base, 'POST', '/broadcast/net-t/start', editorPayload(MEDIA, netReceiver.url, { metadata: { recording_db_id: '9' } }), H)).status, 200);
  await netReceiver.until(() => netReceiver.deliveries.length >= 1, 'programme_ended');
  assert.equal(netReceiver.deliveries[0]!.headers['x-api-token'], undefined);
  assert.equal(callbacksOf(netReceiver)[0]!.data['recording_db_id'], undefined);
});
