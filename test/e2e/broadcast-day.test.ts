// The editor's broadcast day (research §6.4) against the REAL ffmpeg: a local media origin serves short clips made
// with testsrc/sine, a stand-in editor rewrites our live.m3u8 as m3u-editor does (`^(live\d+\.ts)$` →
// /network/U/$1, then a 302 to our segment route) and ffmpeg plays it; programme end, next programme with continued
// numbering, a failure, stop and delete, with the callbacks a receiver got.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { alive, callbacksOf, editorPayload, scratchDir, until } from '../helpers/broadcast.ts';
import { fakeFfmpeg } from '../helpers/fake-ffmpeg.ts';
import { probeStreamTypes, requireFfmpeg, runOk } from '../helpers/ffmpeg.ts';
import { startOrigin } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

type Json = Record<string, unknown>;
const TOKEN = 'secret';
const H = { 'x-api-token': TOKEN };
const U = '9b1f2c3d-network';

/** An 8 s MPEG-TS clip (H.264 with a key frame every second, AAC), as a media server's static stream would be. */
async function makeClip(t: TestContext, dir: string, name: string, freq: number): Promise<Buffer> {
  const path = join(dir, name);
  await runOk(t, 'ffmpeg', [
    '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', `sine=frequency=${freq}:sample_rate=48000`,
    '-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', '-f', 'mpegts', path,
  ]);
  return readFileSync(path);
}

/** m3u-editor's side: /network/U/live.m3u8 fetched from us with the token and rewritten; segments 302 to us. */
async function startEditor(t: TestContext, proxyBase: string): Promise<string> {
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    if (path === `/network/${U}/live.m3u8`) {
      void fetch(`${proxyBase}/broadcast/${U}/live.m3u8`, { headers: H }).then(async (r) => {
        const text = (await r.text()).replace(/^(live\d+\.ts)$/gm, `/network/${U}/$1`);
        res.writeHead(r.status, { 'content-type': 'application/vnd.apple.mpegurl' }).end(text);
      }, (error: unknown) => res.writeHead(502).end(String(error)));
      return;
    }
    const m = new RegExp(`^/network/${U}/(live\\d+\\.ts)$`).exec(path);
    if (m !== null) res.writeHead(302, { location: `${proxyBase}/broadcast/${U}/segment/${m[1]}` }).end();
    else res.writeHead(404).end();
  });
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}

function segmentsOf(playlist: string): string[] {
  return playlist.split('\n').filter((l) => /^live\d+\.ts$/.test(l));
}

test('a broadcast day with the real ffmpeg: start, play, programme end, next programme, failure, stop, delete', { timeout: 120_000 }, async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const media = scratchDir('bc-media-');
  const [clip1, clip2] = [await makeClip(t, media, 'i1.ts', 440), await makeClip(t, media, 'i2.ts', 660)];
  const origin = await startOrigin(t, {
    '/Videos/I1/stream.ts': { kind: 'file', body: clip1, contentType: 'video/mp2t' },
    '/Videos/I2/stream.ts': { kind: 'file', body: clip2, contentType: 'video/mp2t' },
    // Headers come only after the start grace, then a 404: FFmpeg fails while on air.
    '/Videos/gone/stream.ts': { kind: 'status', status: 404, delayMs: 4_000 },
  });
  const dir = scratchDir('bc-e2e-');
  const { base } = await startProxy(t, { apiToken: TOKEN, broadcastDir: dir });
  const receiver = await startReceiver(t);
  const editor = await startEditor(t, base);
  const live = `${base}/broadcast/${U}/live.m3u8`;

  // Boot: the editor's clean slate.
  assert.equal((await api(base, 'POST', `/broadcast/${U}/stop`, undefined, H)).status, 404);
  assert.equal((await api(base, 'DELETE', `/broadcast/${U}`, undefined, H)).status, 200);
  assert.equal((await api(base, 'GET', `/broadcast/${U}/status`, undefined, H)).status, 404);

  // 0 s: programme 1, 5 s of an 8 s item.
  const began = performance.now();
  const startAnswer = api(base, 'POST', `/broadcast/${U}/start`, editorPayload(`${origin.url('/Videos/I1/stream.ts')}?static=true&api_key=K`, receiver.url, { duration_seconds: 5 }), H);
  let firstPlayable = 0;
  await until(async () => {
    const r = await fetch(live);
    const names = segmentsOf(await r.text());
    if (names.length === 0) return false;
    const seg = await fetch(`${base}/broadcast/${U}/segment/${names[0]}`);
    const ok = seg.status === 200 && (await seg.arrayBuffer()).byteLength > 0;
    if (ok) firstPlayable = performance.now() - began;
    return ok;
  }, 'the first playable segment', 30_000);
  console.log(`broadcast start -> first playable segment: ${(firstPlayable / 1000).toFixed(2)} s (real ffmpeg, segment_duration 1)`);
  const started = await startAnswer;
  assert.equal(started.status, 200, JSON.stringify(started.body));
  assert.equal((started.body as Json)['status'], 'running');
  const pid1 = (started.body as Json)['ffmpeg_pid'] as number;

  // Players: through the editor's rewrite and 302, as m3u-editor serves them.
  assert.deepEqual([...new Set(await probeStreamTypes(t, `${editor}/network/${U}/live.m3u8`))].sort(), ['audio', 'video']);
  await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-i', `${editor}/network/${U}/live.m3u8`, '-t', '1', '-f', 'null', '-']);

  // Programme end: exactly one programme_ended with the final number.
  await receiver.until(() => receiver.deliveries.length >= 1, 'programme_ended', 30_000);
  const ended = callbacksOf(receiver)[0]!;
  assert.equal(ended.event, 'programme_ended');
  assert.equal(ended.network_id, U);
  assert.equal(ended.data['exit_code'], 0);
  const final = ended.data['final_segment_number'] as number;
  assert.ok(final >= 3, `final ${final}`);
  assert.ok(!alive(pid1));

  // The editor starts the next programme inside the callback: numbering continues with a discontinuity.
  const next = await api(base, 'POST', `/broadcast/${U}/start`, editorPayload(origin.url('/Videos/I2/stream.ts'), receiver.url, {
    segment_start_number: final + 1, add_discontinuity: true, duration_seconds: 4,
  }), H);
  assert.equal(next.status, 200, JSON.stringify(next.body));
  const nextName = `live${String(final + 1).padStart(6, '0')}.ts`;
  await until(async () => segmentsOf(await fetch(live).then((r) => r.text())).includes(nextName), 'the next programme\'s first segment', 30_000);
  const playlist = await fetch(live).then((r) => r.text());
  // B12: the previous programme's tail is still listed, then a discontinuity before the next programme's first.
  const listed = segmentsOf(playlist);
  assert.ok(Number(listed[0]?.slice(4, 10)) <= final && listed.includes(nextName), playlist);
  assert.match(playlist, new RegExp(`#EXT-X-DISCONTINUITY\\n(#[^\\n]*\\n)*${nextName}`));
  assert.match(playlist, new RegExp(`#EXT-X-MEDIA-SEQUENCE:${Number(listed[0]?.slice(4, 10))}\\n`));
  for (const name of listed) assert.equal(await fetch(`${base}/broadcast/${U}/segment/${name}`).then(async (r) => (await r.arrayBuffer(), r.status)), 200, name);
  await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-i', `${editor}/network/${U}/live.m3u8`, '-t', '1', '-f', 'null', '-']);
  await receiver.until(() => receiver.deliveries.length >= 2, 'second programme_ended', 30_000);
  assert.ok((callbacksOf(receiver)[1]!.data['final_segment_number'] as number) > final);

  // A failure on air: one broadcast_failed with the exit code, the start itself was fine.
  const failing = await api(base, 'POST', `/broadcast/${U}/start`, editorPayload(origin.url('/Videos/gone/stream.ts'), receiver.url), H);
  assert.equal(failing.status, 200, JSON.stringify(failing.body));
  await receiver.until(() => receiver.deliveries.length >= 3, 'broadcast_failed', 30_000);
  const failed = callbacksOf(receiver)[2]!;
  assert.equal(failed.event, 'broadcast_failed');
  assert.notEqual(failed.data['exit_code'], 0);
  assert.equal(typeof failed.data['exit_code'], 'number');
  assert.equal(typeof failed.data['error_type'], 'string');
  assert.equal(((await api(base, 'GET', `/broadcast/${U}/status`, undefined, H)).body as Json)['status'], 'failed');

  // User stop, then DELETE: files gone, playlist 404.
  const stop = await api(base, 'POST', `/broadcast/${U}/stop`, undefined, H);
  assert.equal(stop.status, 200);
  assert.equal(typeof (stop.body as Json)['final_segment_number'], 'number');
  assert.equal((await api(base, 'DELETE', `/broadcast/${U}`, undefined, H)).status, 200);
  assert.ok(!existsSync(join(dir, `broadcast_${U}`)));
  assert.equal((await fetch(live).then(async (r) => (await r.text(), r.status))), 404);
  assert.equal(receiver.deliveries.length, 3, 'no callback for the stop or the DELETE');
});

test('E18: preferred_audio_language picks the tagged track by ffprobe; digits are an index; unknown falls back to the first', { timeout: 60_000 }, async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const media = scratchDir('bc-audio-');
  const path = join(media, 'two-audio.ts');
  await runOk(t, 'ffmpeg', [
    '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-f', 'lavfi', '-i', 'sine=frequency=880', '-map', '0:v', '-map', '1:a', '-map', '2:a', '-t', '2', '-c:v', 'libx264',
    '-preset', 'ultrafast', '-c:a', 'aac', '-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=jpn', '-f', 'mpegts', path,
  ]);
  const origin = await startOrigin(t, { '/two.ts': { kind: 'file', body: readFileSync(path), contentType: 'video/mp2t' } });
  const fake = fakeFfmpeg(t, { segments: -1, delay: 0.2 });
  const { base } = await startProxy(t, { apiToken: TOKEN, ffmpegPath: fake.path, broadcastDir: scratchDir('bc-e2e-'), broadcastStartGraceMs: 200 });
  const cases: [string, string][] = [['jpn', '0:a:1?'], ['ja', '0:a:1?'], ['eng', '0:a:0?'], ['1', '0:a:1?'], ['xxx', '0:a:0?']];
  for (const [i, [wanted, map]] of cases.entries()) {
    const r = await api(base, 'POST', `/broadcast/lang-${i}/start`, editorPayload(origin.url('/two.ts'), null, { preferred_audio_language: wanted }), H);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const argv = fake.argsOf((r.body as Json)['ffmpeg_pid'] as number);
    const maps = argv.flatMap((a, k) => (a === '-map' ? [argv[k + 1]] : []));
    assert.deepEqual(maps, ['0:v:0?', map], wanted);
  }
});

test('start -> first playable segment with the editor\'s default 6 s segments (measured, not asserted)', { timeout: 60_000 }, async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const media = scratchDir('bc-media6-');
  const origin = await startOrigin(t, { '/I.ts': { kind: 'file', body: await makeClip(t, media, 'i.ts', 440), contentType: 'video/mp2t' } });
  const { base } = await startProxy(t, { apiToken: TOKEN, broadcastDir: scratchDir('bc-e2e6-') });
  const began = performance.now();
  const answer = api(base, 'POST', '/broadcast/six/start', editorPayload(origin.url('/I.ts'), null, { segment_duration: 6, hls_list_size: 20 }), H);
  await until(async () => segmentsOf(await fetch(`${base}/broadcast/six/live.m3u8`).then((r) => r.text())).length > 0, 'a 6 s segment', 30_000);
  console.log(`broadcast start -> first playable segment: ${((performance.now() - began) / 1000).toFixed(2)} s (real ffmpeg, segment_duration 6)`);
  assert.equal((await answer).status, 200);
});
