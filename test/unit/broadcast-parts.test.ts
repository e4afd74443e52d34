// The broadcast manager's small parts: start payload parsing, the per-network lock, the answers' masking and time
// format, exit codes, the audio-track choice and the directory watch (bytes, pruning, stall).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { audioMapFor } from '../../src/services/broadcast/audio-language.ts';
import { DirWatch, deleteMedia, deleteUnlisted } from '../../src/services/broadcast/dir-watch.ts';
import { exitCode, readrateSupported } from '../../src/services/broadcast/ffmpeg-exit.ts';
import { KeyedLock } from '../../src/services/broadcast/keyed-lock.ts';
import { parseStartInput } from '../../src/services/broadcast/start-input.ts';
import { isoUtc, maskQuery } from '../../src/services/broadcast/views.ts';

const LIMITS = { broadcastDir: '/tmp/b', allowedDirs: ['/srv/shm'] };
const is422 = (e: { status: number }) => e.status === 422;

test('start payload: defaults, #range= offset, next_stream_config (not chained), DVR keeps every segment', () => {
  const input = parseStartInput({ stream_url: 'http://h/v.ts?api_key=k#range=1048576-', next_stream_config: { stream_url: 'http://h/2.ts', next_stream_config: { stream_url: 'http://h/3.ts' } } }, LIMITS);
  assert.equal(input.streamUrl, 'http://h/v.ts?api_key=k');
  assert.equal(input.offset, 1048576);
  assert.equal(input.segmentDuration, 6);
  assert.equal(input.listSize, 20);
  assert.equal(input.audioBitrate, 192);
  assert.equal(input.segmentStartNumber, 0);
  assert.equal(input.next?.streamUrl, 'http://h/2.ts');
  assert.ok(!('next' in (input.next ?? {})), 'the next programme has no next of its own');
  assert.equal(parseStartInput({ stream_url: 'http://h/v', dvr_mode: true, hls_list_size: 20 }, LIMITS).listSize, 0);
  assert.equal(parseStartInput({ stream_url: 'http://h/v', hls_list_size: 0 }, LIMITS).listSize, 20, 'a live window never keeps everything');
  assert.equal(parseStartInput({ stream_url: 'http://h/v', video_bitrate: 2000, video_resolution: '1280x720' }, LIMITS).videoBitrate, '2000');
  assert.equal(parseStartInput({ stream_url: 'http://h/v', output_dir: '/srv/shm/' }, LIMITS).outputDir, '/srv/shm');
});

test('start payload: what could reach FFmpeg as an option or a local file is refused with 422', () => {
  const bad: Record<string, unknown>[] = [
    {}, { stream_url: 'file:///etc/passwd' }, { stream_url: '/etc/passwd' }, { stream_url: 'http://h/v', video_resolution: 'scale=1,movie=/x' },
    { stream_url: 'http://h/v', video_codec: 'libx264 -i /x' }, { stream_url: 'http://h/v', video_bitrate: '2M' },
    { stream_url: 'http://h/v', seek_seconds: -1 }, { stream_url: 'http://h/v', segment_duration: 0 }, { stream_url: 'http://h/v', transcode: 'yes' },
    { stream_url: 'http://h/v', callback_url: 'ftp://x' }, { stream_url: 'http://h/v', output_dir: 7 }, { stream_url: 'http://h/v', headers: { A: 'a\0b' } },
    { stream_url: 'http://h/v', next_stream_config: { stream_url: 'file:///x' } }, { stream_url: 'http://h/v', metadata: [1] },
  ];
  for (const body of bad) assert.throws(() => parseStartInput(body, LIMITS), is422, JSON.stringify(body));
  // E17: a well-formed directory that is not allowed is a 400 naming the setting.
  assert.throws(() => parseStartInput({ stream_url: 'http://h/v', output_dir: '/etc' }, LIMITS), (e: { status: number; message: string }) => e.status === 400 && e.message.includes('BROADCAST_ALLOWED_DIRS'));
});

test('keyed lock: one key in order, other keys in parallel, a failure does not block the queue', async () => {
  const lock = new KeyedLock();
  const order: string[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const a1 = lock.run('a', async () => {
    await gate;
    order.push('a1');
  });
  const a2 = lock.run('a', async () => {
    order.push('a2');
    throw new Error('boom');
  });
  const a3 = lock.run('a', async () => order.push('a3'));
  await lock.run('b', async () => order.push('b'));
  assert.deepEqual(order, ['b'], 'b did not wait for a');
  release();
  await a1;
  await assert.rejects(a2, /boom/);
  await a3;
  assert.deepEqual(order, ['b', 'a1', 'a2', 'a3']);
  // The queue forgets a key once its tail settles (a few microtasks after the last result).
  await new Promise((r) => setImmediate(r));
  assert.equal(lock.size, 0);
});

test('answers: query values masked, user info and fragment dropped; times like Python isoformat', () => {
  assert.equal(maskQuery('http://u:p@jf:8096/Videos/1/stream.ts?static=true&api_key=K&api_key=L'), 'http://jf:8096/…/stream.ts?static=***&api_key=***');
  assert.equal(maskQuery('http://jf/v.ts'), 'http://jf/v.ts');
  // Xtream Codes: the user and password are path segments.
  assert.equal(maskQuery('http://provider.example:8080/movie/alice/S3CR3TPASS/12345.mkv'), 'http://provider.example:8080/…/12345.mkv');
  assert.equal(isoUtc(new Date('2026-04-28T12:00:00.123Z')), '2026-04-28T12:00:00.123000+00:00');
});

test('exit codes as the editor expects them; -readrate only from FFmpeg 6.1', () => {
  assert.equal(exitCode({ code: 8, signal: null }), 8);
  assert.equal(exitCode({ code: null, signal: 'SIGKILL' }), -9);
  assert.equal(readrateSupported('ffmpeg version 5.1.9-0+deb12u1 Copyright'), false);
  assert.equal(readrateSupported('ffmpeg version 6.1.1 Copyright'), true);
  assert.equal(readrateSupported('ffmpeg version n7.0 Copyright'), true);
  assert.equal(readrateSupported('ffmpeg version N-112345-gabc Copyright'), false);
});

test('audio track: the first stream tagged with the language or its 2/3-letter twin, else the first', () => {
  const json = JSON.stringify({ streams: [{ index: 1, tags: { language: 'eng' } }, { index: 2, tags: { language: 'jpn' } }, { index: 3 }] });
  assert.equal(audioMapFor('jpn', json), '0:a:1?');
  assert.equal(audioMapFor('JA', json), '0:a:1?');
  assert.equal(audioMapFor('en', json), '0:a:0?');
  assert.equal(audioMapFor('fre', json), '0:a:0?');
  assert.equal(audioMapFor('jpn', ''), '0:a:0?');
  assert.equal(audioMapFor('jpn', '{"streams":{}}'), '0:a:0?');
});

test('directory watch: counts new segment bytes once, prunes the previous programme past the window, reports a stall once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let now = 1_000_000;
  let stalls = 0;
  const watch = new DirWatch({ dir, startNumber: 10, windowMs: 5_000, keepAll: false, stallMs: 30_000, now: () => now, onStall: () => stalls++, onError: (e) => assert.fail(String(e)) });
  // Programme before: 8 still listed by nothing, 9 listed; both old on disk.
  for (const n of [8, 9]) {
    writeFileSync(join(dir, `live00000${n}.ts`), 'old');
    utimesSync(join(dir, `live00000${n}.ts`), 1, 1);
  }
  writeFileSync(join(dir, 'live.m3u8'), '#EXTM3U\n#EXTINF:1,\nlive000009.ts\n#EXTINF:1,\nlive000010.ts\n');
  writeFileSync(join(dir, 'live000010.ts'), Buffer.alloc(100));
  await watch.tick();
  await watch.tick();
  assert.equal(watch.bytesWritten, 100);
  assert.equal(watch.lastSegment, 10);
  assert.ok(!existsSync(join(dir, 'live000008.ts')), 'unlisted and old: pruned');
  assert.ok(existsSync(join(dir, 'live000009.ts')), 'still listed: kept');
  writeFileSync(join(dir, 'live000011.ts'), Buffer.alloc(50));
  await watch.tick();
  assert.equal(watch.bytesWritten, 150);
  now += 31_000;
  await watch.tick();
  await watch.tick();
  assert.equal(stalls, 1);

  writeFileSync(join(dir, 'live000012.ts.tmp'), 'x');
  await deleteUnlisted(dir);
  assert.ok(!existsSync(join(dir, 'live000011.ts')) && !existsSync(join(dir, 'live000012.ts.tmp')) && existsSync(join(dir, 'live000010.ts')));
  await deleteMedia(dir);
  assert.ok(!existsSync(join(dir, 'live.m3u8')) && !existsSync(join(dir, 'live000010.ts')));
});
