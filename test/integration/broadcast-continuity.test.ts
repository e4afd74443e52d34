// B12 through the HTTP API with a fake FFmpeg: after a transition the served live.m3u8 lists the previous
// programme's tail before the new programme; a programme with subtitles is served as FFmpeg writes it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { editorPayload, scratchDir, until } from '../helpers/broadcast.ts';
import { fakeFfmpeg } from '../helpers/fake-ffmpeg.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

type Json = Record<string, unknown>;
const TOKEN = 'secret';
const H = { 'x-api-token': TOKEN };
const MEDIA = 'http://127.0.0.1:9/v.ts';

const segments = (text: string) => text.split('\n').filter((l) => /^live\d+\.ts$/.test(l));
const name = (n: number) => `live${String(n).padStart(6, '0')}.ts`;

test('B12: the previous programme\'s tail stays listed after a transition; not with subtitles', async (t) => {
  const ffmpeg = fakeFfmpeg(t, { segments: 6, delay: 0.25, exitCode: 0 });
  const dir = scratchDir('bc-cont-');
  const { base } = await startProxy(t, { apiToken: TOKEN, ffmpegPath: ffmpeg.path, broadcastDir: dir, broadcastStartGraceMs: 200, ffprobePath: '/nonexistent/ffprobe' });
  const live = `${base}/broadcast/net-c/live.m3u8`;
  const start = (over: Json) => api(base, 'POST', '/broadcast/net-c/start', editorPayload(MEDIA, null, over), H);
  assert.equal((await start({})).status, 200);
  await until(async () => ((await api(base, 'GET', '/broadcast/net-c/status', undefined, H)).body as Json)['status'] === 'stopped', 'programme A ends');
  assert.equal((await fetch(live).then((r) => r.text())), readFileSync(join(dir, 'broadcast_net-c', 'live.m3u8'), 'utf8'), 'no transition yet: FFmpeg\'s text');

  assert.equal((await start({ segment_start_number: 6, add_discontinuity: true })).status, 200);
  await until(async () => segments(await fetch(live).then((r) => r.text())).includes(name(6)), 'programme B\'s first segment');
  const text = await fetch(live).then((r) => r.text());
  const listed = segments(text);
  assert.ok(listed.length <= 5 && listed[0] !== name(6) && Number(listed[0]!.slice(4, 10)) < 6, text);
  assert.match(text, new RegExp(`#EXT-X-MEDIA-SEQUENCE:${Number(listed[0]!.slice(4, 10))}\\n#EXT-X-DISCONTINUITY-SEQUENCE:0\\n`));
  assert.match(text, new RegExp(`#EXT-X-DISCONTINUITY\\n#EXTINF:1.000000,\\n${name(6)}`));
  for (const n of listed) assert.equal(await fetch(`${base}/broadcast/net-c/segment/${n}`).then(async (r) => (await r.arrayBuffer(), r.status)), 200, n);
  await until(async () => ((await api(base, 'GET', '/broadcast/net-c/status', undefined, H)).body as Json)['status'] === 'stopped', 'programme B ends');
  const after = await fetch(live).then((r) => r.text());
  assert.match(after, /#EXT-X-DISCONTINUITY-SEQUENCE:1\n/, 'B\'s discontinuity slid out');

  // A programme with subtitles: the video playlist is FFmpeg's own, so live_vtt.m3u8 lines up with it.
  assert.equal((await start({ segment_start_number: 12, add_discontinuity: true, subtitles_enabled: true })).status, 200);
  await until(async () => segments(await fetch(live).then((r) => r.text())).includes(name(12)), 'programme C\'s first segment');
  assert.equal(segments(await fetch(live).then((r) => r.text()))[0], name(12));
});
