// Subtitles of a broadcast (research §6.5): the payload's fields, the stream choice from ffprobe's answer, the argv,
// and the WebVTT files' clean-up on a transition.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { broadcastArgv, type BroadcastArgvInput } from '../../src/services/broadcast/argv.ts';
import { deleteUnlisted } from '../../src/services/broadcast/dir-watch.ts';
import { parseStartInput } from '../../src/services/broadcast/start-input.ts';
import { subtitleIndexFor, subtitlePlan } from '../../src/services/broadcast/subtitles.ts';

const LIMITS = { broadcastDir: '/tmp/b', allowedDirs: [] };
const base: BroadcastArgvInput = {
  url: 'http://127.0.0.1:1/v.ts', offset: null, seekSeconds: 0, durationSeconds: 0, startNumber: 0,
  addDiscontinuity: false, segmentDuration: 6, listSize: 20, dvr: false, transcode: false, videoCodec: null,
  audioCodec: null, preset: null, videoBitrate: null, audioBitrate: 192, videoResolution: null, hwaccel: null,
  headers: null, audioMap: '0:a:0?', subtitle: null, readrate: false, dir: '/d',
};
const probe = (...streams: Array<[string, string?]>) =>
  JSON.stringify({ streams: streams.map(([codec, language], i) => ({ index: i + 2, codec_name: codec, ...(language === undefined ? {} : { tags: { language } }) })) });

test('payload: subtitle fields are read only when subtitles_enabled is true', () => {
  const on = parseStartInput({ stream_url: 'http://h/v', subtitles_enabled: true, subtitle_url: 'http://h/Subtitles/3/Stream.srt?api_key=k', subtitle_language: ' eng ', subtitle_seek_seconds: 12.5 }, LIMITS);
  assert.deepEqual(on.subtitles, { url: 'http://h/Subtitles/3/Stream.srt?api_key=k', language: 'eng', seekSeconds: 12.5 });
  assert.equal(parseStartInput({ stream_url: 'http://h/v', subtitles_enabled: false, subtitle_url: 'http://h/s.srt' }, LIMITS).subtitles, null);
  assert.equal(parseStartInput({ stream_url: 'http://h/v' }, LIMITS).subtitles, null);
  const next = parseStartInput({ stream_url: 'http://h/v', next_stream_config: { stream_url: 'http://h/2', subtitles_enabled: true, subtitle_language: '1' } }, LIMITS);
  assert.deepEqual(next.next?.subtitles, { url: null, language: '1', seekSeconds: 0 });
  for (const bad of [{ subtitle_url: 'file:///etc/passwd' }, { subtitle_language: 3 }, { subtitle_seek_seconds: -1 }, { subtitles_enabled: 'yes' }]) {
    assert.throws(() => parseStartInput({ stream_url: 'http://h/v', subtitles_enabled: true, ...bad }, LIMITS), (e: { status: number }) => e.status === 422, JSON.stringify(bad));
  }
});

test('stream choice: text streams only; digits are a position among all subtitle streams, a language its first text stream', () => {
  const json = probe(['hdmv_pgs_subtitle', 'eng'], ['subrip', 'eng'], ['ass', 'jpn'], ['dvd_subtitle', 'fre']);
  assert.equal(subtitleIndexFor('jpn', json), 2);
  assert.equal(subtitleIndexFor('ja', json), 2);
  assert.equal(subtitleIndexFor('eng', json), 1, 'the PGS eng track cannot become WebVTT');
  assert.equal(subtitleIndexFor('2', json), 2);
  assert.equal(subtitleIndexFor('0', json), 1, 'a bitmap position falls back to the first text stream');
  assert.equal(subtitleIndexFor('fre', json), 1);
  assert.equal(subtitleIndexFor(null, json), 1);
  assert.equal(subtitleIndexFor('eng', probe(['hdmv_pgs_subtitle', 'eng'], ['dvb_subtitle'])), null);
  assert.equal(subtitleIndexFor(null, ''), null, 'no probe answer: no subtitles rather than an FFmpeg that exits');
  assert.deepEqual(subtitlePlan({ url: null, language: 'jpn', seekSeconds: 9 }, json), { url: null, seekSeconds: 0, map: '0:s:2' });
  assert.deepEqual(subtitlePlan({ url: 'http://h/s.srt', language: 'jpn', seekSeconds: 9 }, probe(['subrip'])), { url: 'http://h/s.srt', seekSeconds: 9, map: '1:s:0' });
  assert.equal(subtitlePlan({ url: 'http://h/s.sup', language: null, seekSeconds: 0 }, probe(['hdmv_pgs_subtitle'])), null);
});

test('argv: a subtitle file is a second input after the media, mapped and written as WebVTT', () => {
  const a = broadcastArgv({ ...base, seekSeconds: 30, durationSeconds: 120, subtitle: { url: 'http://h/s.srt', seekSeconds: 30, map: '1:s:0' } });
  const inputs = a.flatMap((v, i) => (v === '-i' ? [i] : []));
  assert.deepEqual(inputs.map((i) => a[i + 1]), [base.url, 'http://h/s.srt']);
  const [first, second] = inputs as [number, number];
  assert.deepEqual(a.slice(second - 2, second), ['-ss', '30'], 'the subtitle seek belongs to the subtitle input');
  assert.ok(a.indexOf('-t') > second, '-t after both inputs, so it limits the output');
  assert.ok(a.indexOf('-ss') < first);
  assert.deepEqual(a.slice(a.indexOf('-t') + 2, a.indexOf('-t') + 4), ['-ss', '0'], 'output -ss 0 drops cues from before the seek point');
  assert.deepEqual(a.slice(a.lastIndexOf('-map'), a.lastIndexOf('-map') + 2), ['-map', '1:s:0']);
  assert.equal(a[a.indexOf('-c:s') + 1], 'webvtt');
  assert.ok(a.indexOf('-c:s') < a.indexOf('-f'));
});

test('argv: an embedded subtitle stream is mapped from the source; no seek, no output -ss', () => {
  const a = broadcastArgv({ ...base, transcode: true, subtitle: { url: null, seekSeconds: 0, map: '0:s:2' } });
  assert.equal(a.filter((v) => v === '-i').length, 1);
  assert.ok(!a.includes('-ss'));
  assert.ok(a.includes('0:s:2') && a[a.indexOf('-c:s') + 1] === 'webvtt');
  assert.ok(!broadcastArgv(base).includes('-c:s'), 'no subtitles asked: none mapped');
});

test('transition clean-up: WebVTT segments the subtitle playlist no longer lists go too', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-vtt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of ['live4.vtt', 'live5.vtt', 'live000005.ts']) writeFileSync(join(dir, name), 'x');
  writeFileSync(join(dir, 'live.m3u8'), '#EXTM3U\n#EXTINF:1,\nlive000005.ts\n');
  writeFileSync(join(dir, 'live_vtt.m3u8'), '#EXTM3U\n#EXTINF:1,\nlive5.vtt\n');
  return deleteUnlisted(dir).then(() => {
    assert.ok(!existsSync(join(dir, 'live4.vtt')));
    assert.ok(existsSync(join(dir, 'live5.vtt')) && existsSync(join(dir, 'live000005.ts')));
  });
});
