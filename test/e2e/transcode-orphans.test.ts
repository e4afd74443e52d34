// E12 with the real FFmpeg: a proxy killed with SIGKILL (no shutdown code runs) takes its FFmpegs with it, the HLS
// one too: its -progress lines go to the proxy's stderr pipe every half second, so its next write ends it (SIGPIPE).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EDITOR_DEFAULT_PROFILES } from '../../src/services/transcode/profiles.ts';
import { alive, privateHlsDir } from '../helpers/fake-program.ts';
import { requireFfmpeg } from '../helpers/ffmpeg.ts';
import { makeChannel, paced } from '../helpers/live-channel.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { cleanEnv, spawnProxy } from '../helpers/spawn-proxy.ts';
import { api } from '../helpers/start-proxy.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'src', 'main.ts');

/** Direct children of `parent` named ffmpeg, from /proc. */
function ffmpegChildren(parent: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') continue; // gone meanwhile
      throw err;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parent && comm === 'ffmpeg') out.push(Number(name));
  }
  return out;
}

test('SIGKILL of the proxy leaves no FFmpeg behind (stdout TS and HLS output)', { timeout: 120_000 }, async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const channel = await makeChannel(t, 'h264', '400k');
  const origin = await startOrigin(t, { '/live/a.ts': paced(channel, 20), '/live/b.ts': paced(channel, 20) });
  const proxy = await spawnProxy(t, process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: cleanEnv({ HLS_TEMP_DIR: privateHlsDir(t), SHARED_STREAM_GRACE: '60' }) });
  const ts = await api(proxy.base, 'POST', '/transcode', { url: origin.url('/live/a.ts'), profile: EDITOR_DEFAULT_PROFILES.live });
  const hls = await api(proxy.base, 'POST', '/transcode', { url: origin.url('/live/b.ts'), profile: EDITOR_DEFAULT_PROFILES.hls });
  assert.equal(ts.status, 200);
  assert.equal(hls.status, 200);
  const viewer = await openPlayer(t, `${proxy.base}/stream/${String((ts.body as Record<string, unknown>)['stream_id'])}`);
  await viewer.waitBytes(10_000, 20_000);
  assert.equal((await fetch(`${proxy.base}/hls/${String((hls.body as Record<string, unknown>)['stream_id'])}/playlist.m3u8`)).status, 200);
  const pid = proxy.child.pid!;
  const ffmpegs = ffmpegChildren(pid);
  assert.equal(ffmpegs.length, 2, 'one FFmpeg per transcode');
  proxy.child.kill('SIGKILL');
  await proxy.exited;
  await waitFor(() => ffmpegs.every((p) => !alive(p)), 10_000, 'every FFmpeg gone with the proxy');
});
