// Through the HTTP API with a fake FFmpeg: the start-retry limit (BROADCAST_MAX_START_RETRIES and its cool-down) and
// the removal of abandoned broadcast directories at start-up and on the sweeper's timer (HLS_GC_AGE_THRESHOLD).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { editorPayload, scratchDir, sleep, until } from '../helpers/broadcast.ts';
import { fakeFfmpeg } from '../helpers/fake-ffmpeg.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

type Json = Record<string, unknown>;
const TOKEN = 'secret';
const H = { 'x-api-token': TOKEN };
const MEDIA = 'http://127.0.0.1:9/v.ts';
const HOUR = 3600_000;

/** A broadcast_<id> directory whose files and itself were last changed `ageMs` ago. */
function oldDir(path: string, ageMs: number): void {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'live.m3u8'), '#EXTM3U\n#EXTINF:1,\nlive000001.ts\n');
  writeFileSync(join(path, 'live000001.ts'), 'x');
  age(path, ageMs);
}

function age(path: string, ageMs: number): void {
  const at = (Date.now() - ageMs) / 1000;
  for (const name of readdirSync(path)) utimesSync(join(path, name), at, at);
  utimesSync(path, at, at);
}

test('BROADCAST_MAX_START_RETRIES: failed starts are counted, then refused without a spawn until the cool-down', async (t) => {
  const ffmpeg = fakeFfmpeg(t, { segments: 0, exitCode: 1, lastWords: 'Server returned 404 Not Found' });
  const { base } = await startProxy(t, {
    apiToken: TOKEN, ffmpegPath: ffmpeg.path, broadcastDir: scratchDir('bc-'), broadcastStartGraceMs: 300,
    broadcastMaxStartRetries: 2, broadcastStartRetryWindowMs: 60_000, broadcastStartRetryCooldownMs: 1_000,
  });
  const spawned = () => readdirSync(dirname(ffmpeg.path)).filter((n) => n.startsWith('ffmpeg.args.')).length;
  const start = () => api(base, 'POST', '/broadcast/bad/start', editorPayload(MEDIA, null), H);
  for (let i = 0; i < 2; i++) {
    const r = await start();
    assert.equal(r.status, 500);
    assert.match(String((r.body as Json)['detail']), /^Broadcast bad failed shortly after start: FFmpeg exited with code 1/);
  }
  const before = spawned();
  const refused = await start();
  assert.equal(refused.status, 500);
  assert.match(String((refused.body as Json)['detail']), /^Exceeded max start retries for broadcast bad; retry allowed after [01]s$/);
  assert.equal(spawned(), before, 'a refused start runs no FFmpeg');
  const other = await api(base, 'POST', '/broadcast/other/start', editorPayload(MEDIA, null), H);
  assert.match(String((other.body as Json)['detail']), /failed shortly after start/, 'other networks are counted apart');
  await sleep(1_100);
  const again = await start();
  assert.match(String((again.body as Json)['detail']), /failed shortly after start/, 'allowed again after the cool-down');
  assert.equal(spawned(), before + 2);
});

test('abandoned directories: removed at start-up and on the sweeper timer; listed, read or young ones stay', async (t) => {
  const ffmpeg = fakeFfmpeg(t, { segments: -1, delay: 0.1 });
  const dir = scratchDir('bc-gc-');
  const dvrDir = scratchDir('bc-gc-dvr-');
  oldDir(join(dir, 'broadcast_boot-old'), 2 * HOUR);
  oldDir(join(dir, 'broadcast_boot-young'), 60_000);
  oldDir(join(dvrDir, 'broadcast_rec-2h'), 2 * HOUR);
  const { base } = await startProxy(t, {
    apiToken: TOKEN, ffmpegPath: ffmpeg.path, broadcastDir: dir, dvrDir, broadcastStartGraceMs: 200,
    broadcastGcAgeMs: HOUR, cleanupIntervalMs: 200,
  });
  await until(() => !existsSync(join(dir, 'broadcast_boot-old')), 'the start-up pass');
  // A running network, and a stopped one whose files a player still reads (served from disk after a stop).
  assert.equal((await api(base, 'POST', '/broadcast/on-air/start', editorPayload(MEDIA, null), H)).status, 200);
  assert.equal((await api(base, 'POST', '/broadcast/read/start', editorPayload(MEDIA, null), H)).status, 200);
  await until(() => existsSync(join(dir, 'broadcast_read', 'live000001.ts')), 'segments');
  assert.equal((await api(base, 'POST', '/broadcast/read/stop', undefined, H)).status, 200);
  age(join(dir, 'broadcast_read'), 2 * HOUR);
  assert.equal((await fetch(`${base}/broadcast/read/live.m3u8`).then(async (r) => (await r.text(), r.status))), 200);
  age(join(dir, 'broadcast_on-air'), 2 * HOUR);
  oldDir(join(dir, 'broadcast_later'), 2 * HOUR);
  await until(() => !existsSync(join(dir, 'broadcast_later')), 'the sweeper-timer pass');
  await sleep(500); // a few more passes
  for (const kept of ['broadcast_boot-young', 'broadcast_on-air', 'broadcast_read']) assert.ok(existsSync(join(dir, kept)), kept);
  assert.ok(existsSync(join(dvrDir, 'broadcast_rec-2h')), 'a recording stays at least a day');
  assert.equal((await api(base, 'GET', '/broadcast/on-air/status', undefined, H)).status, 200);
});
