// The broadcast manager on its own (no HTTP), with a fake FFmpeg: a stalled FFmpeg is killed and reported once (B3),
// a finished entry is forgotten after its time (B7).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChildSet } from '../../src/core/process/child-set.ts';
import { silentLogger } from '../../src/log.ts';
import { BroadcastManager } from '../../src/services/broadcast/manager.ts';
import { parseStartInput } from '../../src/services/broadcast/start-input.ts';
import { alive, callbacksOf, editorPayload, scratchDir, sleep, until } from '../helpers/broadcast.ts';
import { fakeFfmpeg } from '../helpers/fake-ffmpeg.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

test('B3: no new segment within the stall time: FFmpeg killed, one broadcast_failed "stalled"', async (t) => {
  // No segment at all: the fake sleeps far longer than the test before its first one, and does not exit.
  const ffmpeg = fakeFfmpeg(t, { segments: 1, delay: 30 });
  const children = new ChildSet();
  const broadcastDir = scratchDir('bc-');
  const manager = new BroadcastManager({
    ffmpegPath: ffmpeg.path, ffprobePath: 'ffprobe', broadcastDir, dvrDir: scratchDir('bc-dvr-'), allowedDirs: [],
    startGraceMs: 200, callbackTimeoutMs: 1000, children, logger: silentLogger, stallMs: 600, watchIntervalMs: 100,
  });
  t.after(() => children.stopAll(100));
  t.after(() => manager.close());
  const receiver = await startReceiver(t);
  const answer = await manager.start('stall', parseStartInput(editorPayload('http://127.0.0.1:9/v.ts', receiver.url), { broadcastDir, allowedDirs: [] }));
  assert.equal(answer['status'], 'running');
  await receiver.until(() => receiver.deliveries.length >= 1, 'broadcast_failed', 5_000);
  await sleep(300);
  const cbs = callbacksOf(receiver);
  assert.equal(cbs.length, 1);
  assert.equal(cbs[0]!.event, 'broadcast_failed');
  assert.equal(cbs[0]!.data['error'], 'stalled');
  assert.equal(cbs[0]!.data['error_type'], 'stalled');
  assert.equal(cbs[0]!.data['exit_code'], -9);
  assert.ok(!alive(answer['ffmpeg_pid'] as number));
  assert.equal(manager.status('stall')?.['status'], 'failed');
});

test('B7: a finished entry is listed for a while, then forgotten (its files stay)', async (t) => {
  const ffmpeg = fakeFfmpeg(t, { segments: 2, delay: 0.1, exitCode: 0 });
  const children = new ChildSet();
  const broadcastDir = scratchDir('bc-');
  const manager = new BroadcastManager({
    ffmpegPath: ffmpeg.path, ffprobePath: 'ffprobe', broadcastDir, dvrDir: scratchDir('bc-dvr-'), allowedDirs: [],
    startGraceMs: 50, callbackTimeoutMs: 1000, children, logger: silentLogger, finishedTtlMs: 400, watchIntervalMs: 100,
  });
  t.after(() => children.stopAll(100));
  t.after(() => manager.close());
  await manager.start('ttl', parseStartInput(editorPayload('http://127.0.0.1:9/v.ts', null), { broadcastDir, allowedDirs: [] }));
  await until(() => manager.status('ttl')?.['status'] === 'stopped', 'programme end');
  assert.equal(manager.list()['count'], 1);
  await until(() => manager.status('ttl') === undefined, 'the entry forgotten', 3_000);
  assert.equal(manager.list()['count'], 0);
  assert.ok(existsSync(join(broadcastDir, 'broadcast_ttl', 'live.m3u8')));
});
