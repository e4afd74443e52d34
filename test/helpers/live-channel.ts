// A provider's live channel for e2e tests: 20 s of H.264 (or MPEG-2) + AAC made with ffmpeg, and an origin route
// that sends it like a live TS (pieces not aligned to packets, at a steady pace, no length).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { runOk } from './ffmpeg.ts';
import type { Behaviour } from './origin.ts';

/** 20 s of video + AAC in MPEG-TS, a keyframe every second. */
export async function makeChannel(t: TestContext, codec: 'h264' | 'mpeg2' = 'h264', videoBitrate = '800k'): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-channel-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'channel.ts');
  const video = codec === 'h264' ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-b:v', videoBitrate] : ['-c:v', 'mpeg2video', '-g', '25', '-q:v', '6'];
  await runOk(t, 'ffmpeg', [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=20:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=20',
    ...video, '-c:a', 'aac', '-b:a', '64k', '-shortest', '-f', 'mpegts', out,
  ]);
  return readFileSync(out);
}

/** Sends `body` in 5000-byte pieces every `intervalMs`, then ends. */
export function paced(body: Buffer, intervalMs = 10): Behaviour {
  return {
    kind: 'handler',
    handle(_req, res) {
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      let off = 0;
      const timer = setInterval(() => {
        if (res.destroyed || off >= body.length) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(body.subarray(off, off + 5000));
        off += 5000;
      }, intervalMs);
      res.once('close', () => clearInterval(timer));
    },
  };
}
