// Real players through the proxy (SPEC §5.1): ffprobe/ffmpeg read generated MPEG-TS and MP4 via /stream/{id},
// decode without error, and a download stays byte-exact even across an upstream reset and a failover.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { type Behaviour, startOrigin } from '../helpers/origin.ts';
import { md5 } from '../helpers/player.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const run = promisify(execFile);
const TOOL_TIMEOUT_MS = 60_000;

async function hasTool(name: string): Promise<boolean> {
  try {
    await run(name, ['-version'], { timeout: TOOL_TIMEOUT_MS });
    return true;
  } catch (err) {
    // Not installed (ENOENT) is the expected reason; anything else is a real failure worth seeing.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Skips with the reason when ffmpeg/ffprobe are absent, except on CI where their absence is a failure. */
async function requireFfmpeg(t: TestContext): Promise<boolean> {
  if ((await hasTool('ffmpeg')) && (await hasTool('ffprobe'))) return true;
  const reason = 'ffmpeg/ffprobe not installed (apt-get install ffmpeg)';
  assert.ok(!process.env['CI'], `${reason}: required on CI`);
  console.log(`# skipping: ${reason}`);
  t.skip(reason);
  return false;
}

/** Two seconds of test pattern and a sine tone, encoded as `ext` (ts or mp4). */
async function makeMedia(dir: string, ext: 'ts' | 'mp4'): Promise<Buffer> {
  const out = join(dir, `clip.${ext}`);
  const args = ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2',
    '-c:v', 'mpeg2video', '-q:v', '4', '-c:a', 'mp2', '-shortest'];
  if (ext === 'mp4') args.push('-movflags', '+faststart', '-f', 'mp4');
  else args.push('-f', 'mpegts');
  args.push(out);
  await run('ffmpeg', args, { timeout: TOOL_TIMEOUT_MS });
  return readFileSync(out);
}

async function createStream(base: string, url: string, failover: string[] = []): Promise<string> {
  const r = await api(base, 'POST', '/streams', { url, failover_urls: failover });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return base + (r.body as { stream_endpoint: string }).stream_endpoint;
}

async function probeFormat(url: string): Promise<string> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=format_name', '-of', 'default=nw=1:nk=1', url], { timeout: TOOL_TIMEOUT_MS });
  return stdout.trim();
}

/** Decodes every frame; ffmpeg exits non-zero or prints errors when the bytes are damaged. */
async function decodeCleanly(url: string): Promise<void> {
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-xerror', '-i', url, '-f', 'null', '-'], { timeout: TOOL_TIMEOUT_MS });
  assert.equal(stderr.trim(), '', `ffmpeg reported: ${stderr}`);
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

/** Sends `afterBytes` then closes the connection, and answers 503 ever after. */
function breaksOnce(body: Buffer, afterBytes: number, type: string): Behaviour {
  let served = 0;
  return {
    kind: 'handler',
    handle(_req, res) {
      if (served++ > 0) {
        res.writeHead(503);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': type, 'content-length': String(body.length) });
      res.write(body.subarray(0, afterBytes), () => res.socket?.destroy());
    },
  };
}

test('ffprobe and ffmpeg play MPEG-TS and MP4 through /stream/{id}; downloads keep the origin md5', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const dir = mkdtempSync(join(tmpdir(), 'm3u-proxy-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ts = await makeMedia(dir, 'ts');
  const mp4 = await makeMedia(dir, 'mp4');

  const origin = await startOrigin(t, {
    '/clip.ts': { kind: 'file', body: ts, contentType: 'video/mp2t' },
    // The origin gives no useful type: the proxy's extension fallback must make it playable.
    '/clip.mp4': { kind: 'file', body: mp4 },
  });
  const proxy = await startProxy(t);
  const tsUrl = await createStream(proxy.base, origin.url('/clip.ts'));
  const mp4Url = await createStream(proxy.base, origin.url('/clip.mp4'));

  assert.equal(await probeFormat(tsUrl), 'mpegts');
  assert.match(await probeFormat(mp4Url), /mp4/);
  await decodeCleanly(tsUrl);
  await decodeCleanly(mp4Url);
  assert.equal(md5(await download(tsUrl)), md5(ts));
  assert.equal(md5(await download(mp4Url)), md5(mp4));
  // ffmpeg reads MP4 with Range requests: the proxy passed them on.
  assert.ok(origin.hits('/clip.mp4').some((r) => r.headers.range !== undefined), 'ffmpeg used Range through the proxy');
});

test('across an upstream reset and a failover, players still decode and downloads keep the md5', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const dir = mkdtempSync(join(tmpdir(), 'm3u-proxy-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ts = await makeMedia(dir, 'ts');
  const mp4 = await makeMedia(dir, 'mp4');
  const half = (b: Buffer) => Math.floor(b.length / 2);

  const origin = await startOrigin(t, {
    // Resets once in the middle, then serves Range requests normally: resumed on the same URL.
    '/reset/decode.ts': { kind: 'file', body: ts, contentType: 'video/mp2t', fault: { kind: 'reset', afterBytes: half(ts), times: 1 } },
    '/reset/get.mp4': { kind: 'file', body: mp4, contentType: 'video/mp4', fault: { kind: 'reset', afterBytes: half(mp4), times: 1 } },
    // Breaks once and stays down: resumed on the failover URL.
    '/a/clip.ts': breaksOnce(ts, half(ts), 'video/mp2t'),
    '/b/clip.ts': { kind: 'file', body: ts, contentType: 'video/mp2t' },
  });
  const proxy = await startProxy(t);

  await decodeCleanly(await createStream(proxy.base, origin.url('/reset/decode.ts')));
  const detailed = await api(proxy.base, 'GET', '/stats/detailed');
  const reconnects = (detailed.body as { failovers: { mid_stream_reconnects: number } }).failovers.mid_stream_reconnects;
  assert.ok(reconnects >= 1, 'the reset was resumed mid-stream');
  assert.equal(md5(await download(await createStream(proxy.base, origin.url('/reset/get.mp4')))), md5(mp4));

  const failoverUrl = await createStream(proxy.base, origin.url('/a/clip.ts'), [origin.url('/b/clip.ts')]);
  assert.equal(md5(await download(failoverUrl)), md5(ts));
  assert.equal(origin.hits('/b/clip.ts').length, 1);
  await decodeCleanly(failoverUrl);
});
