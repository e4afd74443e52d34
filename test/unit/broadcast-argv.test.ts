import { test } from 'node:test';
import assert from 'node:assert/strict';
import { broadcastArgv, audioMapFromIndex, type BroadcastArgvInput } from '../../src/services/broadcast/argv.ts';

const base: BroadcastArgvInput = {
  url: 'http://127.0.0.1:1/v.ts', offset: null, seekSeconds: 0, durationSeconds: 0, startNumber: 0,
  addDiscontinuity: false, segmentDuration: 6, listSize: 20, dvr: false, transcode: false, videoCodec: null,
  audioCodec: null, preset: null, videoBitrate: null, audioBitrate: 192, videoResolution: null, hwaccel: null,
  headers: null, audioMap: '0:a:0?', subtitle: null, readrate: false, dir: '/d',
};

test('copy mode: the §6.3 order', () => {
  assert.deepEqual(broadcastArgv(base), [
    '-y', '-re', '-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '10', '-i', base.url,
    '-map', '0:v:0?', '-map', '0:a:0?', '-c:v', 'copy', '-c:a', 'copy', '-f', 'hls', '-hls_time', '6',
    '-hls_list_size', '20', '-start_number', '0',
    '-hls_flags', 'delete_segments+program_date_time+omit_endlist+independent_segments+temp_file',
    '-hls_segment_filename', '/d/live%06d.ts', '/d/live.m3u8',
  ]);
});

test('seek, duration, headers, offset before -i; discontinuity and numbering (T28)', () => {
  const a = broadcastArgv({ ...base, seekSeconds: 30, durationSeconds: 120, startNumber: 42, addDiscontinuity: true,
    headers: { 'X-Plex-Token': 't' }, offset: 1048576, readrate: true });
  const i = a.indexOf('-i');
  assert.ok(a.indexOf('-ss') < i && a.indexOf('-headers') < i && a.indexOf('-offset') < i && a.indexOf('-readrate') < i);
  assert.equal(a[a.indexOf('-offset') + 1], '1048576');
  assert.equal(a[a.indexOf('-headers') + 1], 'X-Plex-Token: t\r\n');
  assert.ok(a.indexOf('-t') > i);
  assert.ok(!a.includes('-re'));
  assert.equal(a[a.indexOf('-start_number') + 1], '42');
  assert.ok(String(a[a.indexOf('-hls_flags') + 1]).endsWith('+discont_start'));
});

test('transcode with codecs, bitrate, scale, hwaccel; DVR keeps every segment', () => {
  const a = broadcastArgv({ ...base, transcode: true, videoBitrate: '2000', videoResolution: '1280x720',
    hwaccel: 'vaapi', dvr: true });
  assert.deepEqual(a.slice(0, 3), ['-y', '-hwaccel', 'vaapi']);
  const pairs: Array<[string, string]> = [['-c:v', 'libx264'], ['-preset', 'veryfast'], ['-b:v', '2000k'],
    ['-vf', 'scale=1280x720'], ['-c:a', 'aac'], ['-b:a', '192k'], ['-hls_list_size', '0']];
  for (const [flag, value] of pairs) assert.equal(a[a.indexOf(flag) + 1], value);
  assert.ok(!String(a[a.indexOf('-hls_flags') + 1]).includes('delete_segments'));
  assert.ok(!broadcastArgv({ ...base, hwaccel: 'vaapi' }).includes('-hwaccel'));
});

test('preferred audio: digits map a track, a language needs a probe', () => {
  assert.equal(audioMapFromIndex(null), '0:a:0?');
  assert.equal(audioMapFromIndex('2'), '0:a:2?');
  assert.equal(audioMapFromIndex('eng'), null);
});
