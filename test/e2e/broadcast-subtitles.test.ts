// Subtitles with the REAL ffmpeg (research §6.5): a subtitle file given as `subtitle_url` and an embedded text track
// picked by language both come out as FFmpeg's WebVTT rendition (`live_vtt.m3u8`, `live<N>.vtt`), served by the
// segment route the editor's master playlist points at. With a seek, cue times stay on the video's timeline.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { editorPayload, scratchDir, until } from '../helpers/broadcast.ts';
import { requireFfmpeg, runOk } from '../helpers/ffmpeg.ts';
import { startOrigin } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

type Json = Record<string, unknown>;
const TOKEN = 'secret';
const H = { 'x-api-token': TOKEN };
const SRT = '1\n00:00:00,500 --> 00:00:03,000\nBefore the seek\n\n2\n00:00:04,000 --> 00:00:07,000\nSecond cue\n\n3\n00:00:09,000 --> 00:00:11,000\nThird cue\n';
const SRT_JA = '1\n00:00:01,000 --> 00:00:06,000\nJapanese cue\n';

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
const CODECS = ['-t', '12', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k'];

/** The WebVTT segments' text seen so far per network: the window moves on, so each poll adds what it lists now. */
const seen = new Map<string, Map<string, string>>();

/** Every WebVTT segment the subtitle playlist has listed so far, joined. */
async function cues(base: string, id: string): Promise<string> {
  const mine = seen.get(id) ?? new Map<string, string>();
  seen.set(id, mine);
  const playlist = await fetch(`${base}/broadcast/${id}/segment/live_vtt.m3u8`).then((r) => (r.ok ? r.text() : ''));
  const names = playlist.split('\n').filter((l) => /^live\d+\.vtt$/.test(l));
  const texts = await Promise.all(names.map((n) => fetch(`${base}/broadcast/${id}/segment/${n}`).then(async (r) => {
    const body = await r.text();
    // FFmpeg's delete_segments may remove a listed segment between the two reads: that one is skipped.
    if (r.status === 404) return '';
    assert.equal(r.headers.get('content-type'), 'text/vtt');
    return body;
  })));
  for (const [i, name] of names.entries()) if (texts[i] !== '') mine.set(name, texts[i] ?? '');
  return [...mine.values()].join('\n');
}

test('subtitle_url: a second input, seeked like the video, written as WebVTT with cues on the video timeline', { timeout: 60_000 }, async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const media = scratchDir('bc-sub-');
  await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', ...VIDEO, ...CODECS, '-f', 'mpegts', join(media, 'v.ts')]);
  const origin = await startOrigin(t, {
    '/v.ts': { kind: 'file', body: readFileSync(join(media, 'v.ts')), contentType: 'video/mp2t' },
    '/Subtitles/3/Stream.srt': { kind: 'file', body: Buffer.from(SRT), contentType: 'application/x-subrip' },
  });
  const { base } = await startProxy(t, { apiToken: TOKEN, broadcastDir: scratchDir('bc-sub-out-'), broadcastStartGraceMs: 500 });
  const r = await api(base, 'POST', '/broadcast/sub-url/start', editorPayload(origin.url('/v.ts'), null, {
    seek_seconds: 2, hls_list_size: 20, subtitles_enabled: true, subtitle_url: origin.url('/Subtitles/3/Stream.srt?api_key=k'), subtitle_language: 'eng', subtitle_seek_seconds: 2,
  }), H);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await until(async () => (await cues(base, 'sub-url')).includes('Third cue'), 'the third cue as WebVTT', 30_000);
  const text = await cues(base, 'sub-url');
  assert.match(text, /00:02\.000 --> 00:05\.000\s+Second cue/, 'cue 4–7 s is 2–5 s after a 2 s seek');
  assert.ok(!text.includes('Before the seek'), 'a cue that began before the seek point is dropped, not shifting the rest');
  assert.equal(await api(base, 'DELETE', '/broadcast/sub-url', undefined, H).then((x) => x.status), 200);
});

test('embedded subtitles: the text track tagged with subtitle_language is mapped from the source', { timeout: 60_000 }, async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const media = scratchDir('bc-sub-mkv-');
  writeFileSync(join(media, 'en.srt'), SRT);
  writeFileSync(join(media, 'ja.srt'), SRT_JA);
  await runOk(t, 'ffmpeg', [
    '-nostdin', '-v', 'error', ...VIDEO, '-i', join(media, 'en.srt'), '-i', join(media, 'ja.srt'),
    '-map', '0:v', '-map', '1:a', '-map', '2:s', '-map', '3:s', ...CODECS, '-c:s', 'srt',
    '-metadata:s:s:0', 'language=eng', '-metadata:s:s:1', 'language=jpn', '-f', 'matroska', join(media, 'v.mkv'),
  ]);
  const origin = await startOrigin(t, { '/v.mkv': { kind: 'file', body: readFileSync(join(media, 'v.mkv')), contentType: 'video/x-matroska' } });
  const { base } = await startProxy(t, { apiToken: TOKEN, broadcastDir: scratchDir('bc-sub-out-'), broadcastStartGraceMs: 500 });
  const r = await api(base, 'POST', '/broadcast/sub-mkv/start', editorPayload(origin.url('/v.mkv'), null, {
    duration_seconds: 5, subtitles_enabled: true, subtitle_language: 'ja',
  }), H);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await until(async () => (await cues(base, 'sub-mkv')).includes('Japanese cue'), 'the Japanese cue as WebVTT', 30_000);
  assert.ok(!(await cues(base, 'sub-mkv')).includes('Second cue'), 'only the chosen track');
  const status = (await api(base, 'GET', '/broadcast/sub-mkv/status', undefined, H)).body as Json;
  assert.notEqual(status['status'], 'failed');
});
