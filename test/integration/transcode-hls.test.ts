// HLS-output transcodes (SPEC §13; research §8 T4, T5, T13, T14): a per-stream directory served by plain names
// only, /stream/{id} redirecting to the playlist, 409 for the opposite mismatch, directories removed.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DEFAULT_TRANSCODE_CONFIG, type TranscodeConfig } from '../../src/config-transcode.ts';
import { EDITOR_DEFAULT_PROFILES } from '../../src/services/transcode/profiles.ts';
import { alive, FAKE_STREAM, fakeProgram, privateHlsDir, tsFixture } from '../helpers/fake-program.ts';
import { waitFor } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

type Json = Record<string, unknown>;
const SOURCE = 'http://prov.example/live/u/p/5.ts';

/** Writes what FFmpeg's HLS muxer would, next to the output path (its last argument), then stays alive. */
const FAKE_HLS = [
  'for a; do last="$a"; done',
  'd=$(dirname "$last")',
  'cp "$DIR/fixture.ts" "$d/index0.ts"',
  `printf '#EXTM3U\\n#EXT-X-VERSION:7\\n#EXT-X-TARGETDURATION:2\\n#EXT-X-MAP:URI="init.mp4"\\n#EXTINF:2.0,\\nindex0.ts\\n#EXTINF:2.0,\\n/etc/passwd\\n#EXTINF:2.0,\\n../x.ts\\n' > "$d/index.m3u8.tmp"`,
  'mv "$d/index.m3u8.tmp" "$d/index.m3u8"',
  'sleep 30',
].join('\n');

async function proxyWith(t: TestContext, transcode: Partial<TranscodeConfig>) {
  return startProxy(t, { transcode: { ...DEFAULT_TRANSCODE_CONFIG, graceMs: 100, hlsDir: privateHlsDir(t), ...transcode } });
}

function rawGet(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.once('error', reject);
    req.end();
  });
}

test('T4 Default HLS: playlist with t/ URIs only naming its directory, segments served by name, DELETE removes it all', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_HLS);
  const { base, app } = await proxyWith(t, { ffmpegPath: ffmpeg.path });
  const r = await api(base, 'POST', '/transcode', { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.hls });
  assert.equal(r.status, 200);
  const body = r.body as Json;
  const id = String(body['stream_id']);
  assert.equal(body['format'], 'hls');
  assert.equal(body['stream_endpoint'], `/hls/${id}/playlist.m3u8`);

  const playlist = await fetch(`${base}/hls/${id}/playlist.m3u8`);
  assert.equal(playlist.status, 200);
  assert.equal(playlist.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  const text = await playlist.text();
  assert.match(text, /^t\/index0\.ts$/m);
  assert.match(text, /#EXT-X-MAP:URI="t\/init\.mp4"/);
  assert.ok(!text.includes('passwd') && !text.includes('../'), text);
  const argv = ffmpeg.starts()[0]!;
  const dir = join(app.config.transcode!.hlsDir, `m3u_proxy_hls_${id}`);
  assert.equal(argv.at(-1), join(dir, 'index.m3u8'));
  assert.match(argv[argv.indexOf('-hls_flags') + 1]!, /delete_segments/);

  const withId = await (await fetch(`${base}/hls/${id}/playlist.m3u8?client_id=tab-1`)).text();
  assert.match(withId, /^t\/index0\.ts\?client_id=tab-1$/m, 'the client id goes along to the segments');
  const clients = ((await api(base, 'GET', `/streams/${id}`)).body as { clients: Json[] }).clients.map((c) => c['client_id']);
  assert.ok(clients.includes('tab-1'));
  const seg = await fetch(`${base}/hls/${id}/t/index0.ts`);
  assert.equal(seg.status, 200);
  assert.equal(seg.headers.get('content-type'), 'video/mp2t');
  assert.deepEqual(Buffer.from(await seg.arrayBuffer()), tsFixture());
  const part = await fetch(`${base}/hls/${id}/t/index0.ts`, { headers: { range: 'bytes=188-375' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 188-375/${tsFixture().length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), tsFixture().subarray(188, 376));
  const head = await fetch(`${base}/hls/${id}/t/index0.ts`, { method: 'HEAD' });
  assert.equal(head.headers.get('content-length'), String(tsFixture().length));
  assert.equal((await fetch(`${base}/hls/${id}/t/index0.ts`, { headers: { range: 'bytes=999999-' } })).status, 416);
  for (const bad of ['..%2F..%2Fetc%2Fpasswd', '.hidden', '%2Fetc%2Fpasswd', 'nosuch.ts']) {
    assert.equal((await fetch(`${base}/hls/${id}/t/${bad}`)).status, 404, bad);
  }
  // T13: the reference's local-file read.
  for (const q of ['url=file:///etc/passwd', 'url=/etc/passwd']) {
    const leak = await fetch(`${base}/hls/${id}/segment.ts?client_id=x&${q}`);
    assert.ok(leak.status === 403 || leak.status === 404 || leak.status === 400, `${q}: ${leak.status}`);
    assert.ok(!(await leak.text()).includes('root:'));
  }
  // /stream/{id} of an HLS transcode: a relative redirect to its playlist.
  const redirect = await rawGet(`${base}/stream/${id}?client_id=c1`);
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers['location'], `../hls/${id}/playlist.m3u8?client_id=c1`);

  const pid = ffmpeg.pids()[0]!;
  assert.equal((await api(base, 'DELETE', `/streams/${id}`)).status, 200);
  await waitFor(() => !alive(pid) && !existsSync(dir), 8_000, 'process and directory gone');
});

test('T5 HLS and HLS fMP4 of one URL are two streams; a TS transcode has no playlist (409); idle HLS transcodes stop', async (t) => {
  const ffmpeg = fakeProgram(t, `case "$*" in *hls*) ;; *) ${FAKE_STREAM};; esac\n${FAKE_HLS}`);
  const { base } = await proxyWith(t, { ffmpegPath: ffmpeg.path, hlsWaitMs: 2_000 });
  const a = String(((await api(base, 'POST', '/transcode', { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.hls })).body as Json)['stream_id']);
  const b = String(((await api(base, 'POST', '/transcode', { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.hlsFmp4 })).body as Json)['stream_id']);
  assert.notEqual(a, b);
  assert.equal((await fetch(`${base}/hls/${a}/playlist.m3u8`)).status, 200);
  assert.equal((await fetch(`${base}/hls/${b}/playlist.m3u8`)).status, 200);
  assert.equal(ffmpeg.starts().length, 2);
  assert.ok(ffmpeg.starts()[1]!.includes('fmp4'));

  const live = String(((await api(base, 'POST', '/transcode', { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.live })).body as Json)['stream_id']);
  const mismatch = await api(base, 'GET', `/hls/${live}/playlist.m3u8`);
  assert.equal(mismatch.status, 409);
  assert.equal((mismatch.body as Json)['code'], 'TRANSCODE_FORMAT_MISMATCH');
  assert.equal((mismatch.body as Json)['detail'], `stream ${live} is a continuous transcode; play /stream/${live}`);

  // Nobody asks for anything: both stop after HLS_WAIT_TIME + SHARED_STREAM_GRACE.
  const pids = ffmpeg.pids().slice(0, 2);
  await waitFor(() => pids.every((p) => !alive(p)), 10_000, 'idle HLS transcodes stopped');
});

test('leftover HLS transcode directories are removed at start-up; other directories are kept', async (t) => {
  const base = privateHlsDir(t);
  const leftover = join(base, `m3u_proxy_hls_${'a'.repeat(32)}`);
  const other = join(base, 'broadcast_net1');
  mkdirSync(leftover);
  mkdirSync(other);
  await startProxy(t, { transcode: { ...DEFAULT_TRANSCODE_CONFIG, hlsDir: base } });
  await waitFor(() => !existsSync(leftover), 2_000, 'leftover removed');
  assert.ok(existsSync(other));
});

test('manual failover of an HLS transcode: the process restarts on the next URL at the next request', async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_HLS);
  const { base } = await proxyWith(t, { ffmpegPath: ffmpeg.path });
  const id = String(((await api(base, 'POST', '/transcode', { url: SOURCE, failover_urls: ['http://backup.example/5.ts'], profile: EDITOR_DEFAULT_PROFILES.hls })).body as Json)['stream_id']);
  assert.equal((await fetch(`${base}/hls/${id}/playlist.m3u8`)).status, 200);
  const first = ffmpeg.pids()[0]!;
  assert.equal((await api(base, 'POST', `/streams/${id}/failover`)).status, 200);
  await waitFor(() => !alive(first), 8_000, 'old process stopped');
  assert.equal((await fetch(`${base}/hls/${id}/playlist.m3u8`)).status, 200);
  assert.equal(ffmpeg.starts().length, 2);
  assert.ok(ffmpeg.starts()[1]!.includes('http://backup.example/5.ts'));
});

test('an HLS transcode deleted and created again at once: the old process leaving does not remove the new one\'s files', async (t) => {
  // FFmpeg takes a moment to finish after SIGTERM; the old directory's removal came after that, under the same name.
  const ffmpeg = fakeProgram(t, FAKE_HLS.replace('sleep 30', "trap 'sleep 0.3; exit 0' TERM; i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done"));
  const { base } = await proxyWith(t, { ffmpegPath: ffmpeg.path });
  const body = { url: SOURCE, profile: EDITOR_DEFAULT_PROFILES.hls };
  const id = String(((await api(base, 'POST', '/transcode', body)).body as Json)['stream_id']);
  assert.equal((await rawGet(`${base}/hls/${id}/playlist.m3u8`)).status, 200);
  assert.equal((await api(base, 'DELETE', `/streams/${id}`)).status, 200);
  assert.equal((await api(base, 'POST', '/transcode', body)).status, 200);
  assert.equal((await rawGet(`${base}/hls/${id}/playlist.m3u8`)).status, 200);
  // Past the old process's exit: the new one's playlist and segment are still there.
  await new Promise((resolve) => setTimeout(resolve, 800));
  assert.equal((await rawGet(`${base}/hls/${id}/playlist.m3u8`)).status, 200);
  assert.equal((await rawGet(`${base}/hls/${id}/t/index0.ts`)).status, 200);
  assert.equal((await api(base, 'DELETE', `/streams/${id}`)).status, 200);
  await waitFor(() => ffmpeg.pids().every((pid) => !alive(pid)), 5_000, 'no process left');
});
