// Transcode processes that die, fail over, run per viewer, or are resolvers (SPEC §13; research §8 T6, T7, T12, E8, E10).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createApp } from '../../src/app.ts';
import { DEFAULT_TRANSCODE_CONFIG, type TranscodeConfig } from '../../src/config-transcode.ts';
import type { ProxyEvent } from '../../src/core/events.ts';
import { silentLogger } from '../../src/log.ts';
import { EDITOR_DEFAULT_PROFILES } from '../../src/services/transcode/profiles.ts';
import { alive, FAKE_STREAM, fakeProgram, privateHlsDir, tsFixture } from '../helpers/fake-program.ts';
import { waitFor } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, testConfig } from '../helpers/start-proxy.ts';

type Json = Record<string, unknown>;

async function proxy(t: TestContext, transcode: Partial<TranscodeConfig>) {
  const app = createApp(testConfig({ transcode: { ...DEFAULT_TRANSCODE_CONFIG, graceMs: 100, hlsDir: privateHlsDir(t), ...transcode } }), { logger: silentLogger, transcodeRestartDelayMs: () => 20 });
  t.after(() => app.close(100));
  const port = await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${port}` };
}

async function create(base: string, body: Json): Promise<string> {
  const r = await api(base, 'POST', '/transcode', body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return String((r.body as Json)['stream_id']);
}

test('a process that dies with viewers is restarted (viewer stays), a few times, then the viewer is let go', async (t) => {
  const ffmpeg = fakeProgram(t, 'cat "$DIR/fixture.ts"; sleep 0.1; cat "$DIR/fixture.ts"; exit 0');
  const { base } = await proxy(t, { ffmpegPath: ffmpeg.path });
  const id = await create(base, { url: 'http://a.example/1.ts', profile: EDITOR_DEFAULT_PROFILES.live });
  const player = await openPlayer(t, `${base}/stream/${id}`);
  await player.done;
  assert.equal(ffmpeg.starts().length, 4, 'the first start and three restarts on the one URL');
  assert.ok(player.bytes >= 4 * tsFixture().length, `the viewer got every process's output (${player.bytes})`);
});

test('after the restarts the next failover URL takes over, viewers connected; manual failover restarts on the next URL', async (t) => {
  const ffmpeg = fakeProgram(t, `case "$*" in *bad*) cat "$DIR/fixture.ts"; exit 1;; esac\n${FAKE_STREAM}`);
  const { base, app } = await proxy(t, { ffmpegPath: ffmpeg.path });
  const events: ProxyEvent[] = [];
  app.bus.subscribe((e) => events.push(e));
  const id = await create(base, { url: 'http://bad.example/1.ts', failover_urls: ['http://good.example/1.ts', 'http://good2.example/1.ts'], profile: EDITOR_DEFAULT_PROFILES.live });
  const a = await openPlayer(t, `${base}/stream/${id}`);
  const b = await openPlayer(t, `${base}/stream/${id}`);
  await waitFor(() => ffmpeg.starts().some((argv) => argv.includes('http://good.example/1.ts')), 5_000, 'a process on the failover URL');
  await a.waitBytes(a.bytes + 10_000);
  await b.waitBytes(b.bytes + 10_000);
  assert.equal(events.filter((e) => e.event_type === 'failover_triggered').length, 1);
  assert.equal(ffmpeg.starts().filter((argv) => argv.includes('http://bad.example/1.ts')).length, 4);

  const before = ffmpeg.starts().length;
  const r = await api(base, 'POST', `/streams/${id}/failover`);
  assert.equal(r.status, 200);
  await waitFor(() => ffmpeg.starts().some((argv) => argv.includes('http://good2.example/1.ts')), 5_000, 'one new process on the next URL');
  await a.waitBytes(a.bytes + 10_000);
  await b.waitBytes(b.bytes + 10_000);
  assert.equal(ffmpeg.starts().length, before + 1, 'one restart for two viewers (D11)');
  assert.equal(app.transcoding.engine.processCount(), 1);
});

test("E8 mp4 output can't be joined: one process per viewer, each from the start", async (t) => {
  const ffmpeg = fakeProgram(t, FAKE_STREAM);
  const { base, app } = await proxy(t, { ffmpegPath: ffmpeg.path, maxProcesses: 2 });
  const id = await create(base, { url: 'http://a.example/movie', profile: '-i {input_url} -c copy -movflags frag_keyframe+empty_moov -f mp4 {output_args}' });
  const a = await openPlayer(t, `${base}/stream/${id}`);
  const b = await openPlayer(t, `${base}/stream/${id}`);
  assert.equal(a.res.headers['content-type'], 'video/mp4');
  await a.waitBytes(1000);
  await b.waitBytes(1000);
  assert.equal(ffmpeg.starts().length, 2);
  assert.deepEqual(b.body().subarray(0, 188), tsFixture().subarray(0, 188), 'the second viewer gets its own start');
  const stat = ((await api(base, 'GET', `/streams/${id}`)).body as { stream: Json }).stream;
  assert.equal(stat['upstream_connections'], 2, 'one provider connection per process');
  const refused = await api(base, 'GET', `/stream/${id}`);
  assert.equal(refused.status, 503, 'TRANSCODE_MAX_PROCESSES');
  const pids = ffmpeg.pids();
  a.leave();
  await waitFor(() => !alive(pids[0]!), 8_000, 'the leaving viewer took its process');
  assert.ok(alive(pids[1]!));
  assert.equal((await api(base, 'DELETE', `/streams/${id}`)).status, 200);
  await waitFor(() => !alive(pids[1]!), 8_000, 'DELETE stops the rest');
  assert.equal(app.transcoding.engine.processCount(), 0);
});

function cookiesDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-cookies-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'c.txt'), '# Netscape HTTP Cookie File\n.twitch.tv\tTRUE\t/\tTRUE\t0\tauth-token\tsecret123\n');
  writeFileSync(join(dir, 'empty.txt'), 'nothing here\n');
  return dir;
}

test('T6 streamlink with cookies_path inside COOKIES_DIR; T12 validate-cookies-file never echoes content', async (t) => {
  const streamlink = fakeProgram(t, FAKE_STREAM);
  const dir = cookiesDir(t);
  const { base } = await proxy(t, { streamlinkPath: streamlink.path, cookiesDir: dir });
  const r = await api(base, 'POST', '/transcode', { url: 'https://www.twitch.tv/x', resolver: 'streamlink', resolver_args: 'best --hls-live-edge 3', cookies_path: join(dir, 'c.txt'), metadata: { profile_id: 3 }, user_agent: 'UA/2' });
  assert.equal(r.status, 200);
  const body = r.body as Json;
  assert.equal(body['stream_type'], 'resolver');
  assert.equal(body['format'], 'mpegts');
  const id = String(body['stream_id']);
  const player = await openPlayer(t, `${base}/stream/${id}`);
  await player.waitBytes(1000);
  assert.deepEqual(streamlink.starts()[0], ['https://www.twitch.tv/x', 'best', '--hls-live-edge', '3', '--http-header', 'User-Agent=UA/2', '--http-cookie', 'auth-token=secret123', '-O']);
  const meta = ((await api(base, 'GET', `/streams/${id}`)).body as { stream: { metadata: Json } }).stream.metadata;
  assert.deepEqual([meta['transcoding'], meta['resolver'], meta['resolver_args'], meta['profile_id']], ['true', 'streamlink', 'best --hls-live-edge 3', '3']);

  const outside = await api(base, 'POST', '/transcode', { url: 'https://www.twitch.tv/x', resolver: 'streamlink', cookies_path: '/etc/passwd' });
  assert.equal(outside.status, 400);
  const ok = await api(base, 'GET', `/validate-cookies-file?path=${encodeURIComponent(join(dir, 'c.txt'))}`);
  assert.deepEqual(ok.body, { valid: true, message: 'Cookies file is readable (1 cookies)' });
  for (const path of ['/etc/shadow', '/etc/passwd', join(dir, 'empty.txt'), join(dir, '../x'), 'relative.txt', '']) {
    const bad = await api(base, 'GET', `/validate-cookies-file?path=${encodeURIComponent(path)}`);
    assert.equal(bad.status, 200);
    assert.equal((bad.body as Json)['valid'], false, path);
    assert.ok(!JSON.stringify(bad.body).includes('root:'), 'no content echoed');
  }
});

test('T7 yt-dlp: cookies content in a private 0600 file, removed with the process; disabled resolvers answer 400', async (t) => {
  const ytdlp = fakeProgram(t, `for a in "$@"; do case "$prev" in --cookies) stat -c %a "$a" > "$DIR/mode"; echo "$a" > "$DIR/cookiefile";; esac; prev="$a"; done\n${FAKE_STREAM}`);
  const { base, app } = await proxy(t, { ytdlpPath: ytdlp.path, streamlinkEnabled: false });
  const id = await create(base, { url: 'https://yt.example/watch?v=1', resolver: 'ytdlp', resolver_args: '', cookies: '.yt.example\tTRUE\t/\tTRUE\t0\tSID\tabc\n' });
  const player = await openPlayer(t, `${base}/stream/${id}`);
  await player.waitBytes(1000);
  const argv = ytdlp.starts()[0]!;
  assert.deepEqual(argv.slice(0, 4), ['-o', '-', '-f', 'bestvideo+bestaudio/best']);
  assert.deepEqual(argv.slice(-2), ['--', 'https://yt.example/watch?v=1']);
  assert.equal(readFileSync(join(ytdlp.dir, 'mode'), 'utf8').trim(), '600');
  const file = readFileSync(join(ytdlp.dir, 'cookiefile'), 'utf8').trim();
  assert.ok(statSync(file).isFile());
  assert.equal((await api(base, 'DELETE', `/streams/${id}`)).status, 200);
  await waitFor(() => app.transcoding.engine.processCount() === 0, 8_000, 'process gone');
  await waitFor(() => !existsSync(file), 2_000, 'cookies file removed');
  const off = await api(base, 'POST', '/transcode', { url: 'https://twitch.tv/y', resolver: 'streamlink' });
  assert.equal(off.status, 400);
  assert.match(String((off.body as Json)['detail']), /STREAMLINK_ENABLED=false/);
});

test('a VOD input is transcoded per viewer from its start; a clean exit ends the response whole, nothing restarts', async (t) => {
  const ffmpeg = fakeProgram(t, 'cat "$DIR/fixture.ts"; cat "$DIR/fixture.ts"; exit 0');
  const { base } = await proxy(t, { ffmpegPath: ffmpeg.path });
  const id = await create(base, { url: 'http://a.example/movie/u/p/9.mkv', profile: EDITOR_DEFAULT_PROFILES.live });
  const a = await openPlayer(t, `${base}/stream/${id}`);
  const b = await openPlayer(t, `${base}/stream/${id}`);
  assert.equal(a.res.headers['content-type'], 'video/mp2t');
  assert.deepEqual(await a.done, { complete: true });
  assert.deepEqual(await b.done, { complete: true });
  const twice = Buffer.concat([tsFixture(), tsFixture()]);
  assert.ok(a.body().equals(twice) && b.body().equals(twice), 'each viewer got the whole output');
  assert.equal(ffmpeg.starts().length, 2);
});

test('a process whose output stalls for DEFAULT_READ_TIMEOUT is restarted; the viewer stays connected', async (t) => {
  const ffmpeg = fakeProgram(t, 'cat "$DIR/fixture.ts"; sleep 30');
  const app = createApp(testConfig({ readTimeoutMs: 300, transcode: { ...DEFAULT_TRANSCODE_CONFIG, graceMs: 100, ffmpegPath: ffmpeg.path } }), { logger: silentLogger, transcodeRestartDelayMs: () => 20 });
  t.after(() => app.close(100));
  const base = `http://127.0.0.1:${await app.listen(0, '127.0.0.1')}`;
  const id = await create(base, { url: 'http://a.example/live/1.ts', profile: EDITOR_DEFAULT_PROFILES.live });
  const player = await openPlayer(t, `${base}/stream/${id}`);
  await player.waitBytes(2 * tsFixture().length, 8_000);
  assert.ok(ffmpeg.starts().length >= 2);
  assert.ok(!alive(ffmpeg.pids()[0]!), 'the stalled process was stopped');
});

test('E7 a viewer that stops reading never slows the process or the other viewers', async (t) => {
  // As fast as the pipe takes it: the paused viewer's socket buffers fill long before the others are done.
  const ffmpeg = fakeProgram(t, 'while :; do cat "$DIR/fixture.ts" "$DIR/fixture.ts" "$DIR/fixture.ts" || exit 0; done');
  const app = createApp(testConfig({ shareQueueBytes: 256 * 1024, transcode: { ...DEFAULT_TRANSCODE_CONFIG, graceMs: 100, ffmpegPath: ffmpeg.path } }), { logger: silentLogger });
  t.after(() => app.close(100));
  const base = `http://127.0.0.1:${await app.listen(0, '127.0.0.1')}`;
  const id = await create(base, { url: 'http://a.example/live/7.ts', profile: EDITOR_DEFAULT_PROFILES.live });
  const slow = await openPlayer(t, `${base}/stream/${id}`);
  slow.res.pause();
  const fast = await Promise.all([1, 2, 3, 4].map(() => openPlayer(t, `${base}/stream/${id}`)));
  for (const p of fast) await p.waitBytes(24 * 1024 * 1024, 30_000);
  assert.ok(slow.bytes < 24 * 1024 * 1024, `the paused viewer took ${slow.bytes}`);
  assert.equal(ffmpeg.starts().length, 1);
  for (const p of fast) assert.equal(p.body()[0], 0x47);
});
