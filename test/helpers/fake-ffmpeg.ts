// A fake FFmpeg for broadcast tests: a /bin/sh script in a temp dir, passed as FFMPEG_PATH. It answers -version,
// records its argv (NUL-separated, in `<script>.args.<pid>`), writes `live%06d.ts` segments and a `live.m3u8` like
// FFmpeg's HLS muxer (numbering from -start_number, playlist renamed into place), optionally floods stderr, and
// exits with a chosen code after a number of segments. SIGTERM ends it with 255, as FFmpeg does.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface FakeFfmpegOptions {
  /** Segments written before exiting; -1: until stopped (at most 600, so a fake a failed teardown missed ends too). */
  segments?: number;
  /** Seconds between segments (default 0.2). */
  delay?: number;
  /** Exit code once the segments are written. */
  exitCode?: number;
  /** Bytes of warning lines written to stderr before the first segment. */
  stderrFlood?: number;
  /** A line written to stderr before exiting. */
  lastWords?: string;
}

export interface FakeFfmpeg {
  path: string;
  /** The argv the fake was run with as process `pid`. */
  argsOf(pid: number): string[];
}

export function fakeFfmpeg(t: TestContext, o: FakeFfmpegOptions = {}): FakeFfmpeg {
  const dir = mkdtempSync(join(tmpdir(), 'fake-ffmpeg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ffmpeg');
  const flood = o.stderrFlood ?? 0;
  const script = `#!/bin/sh
if [ "$1" = "-version" ]; then echo "ffmpeg version 5.1.fake"; exit 0; fi
printf '%s\\0' "$@" > "$0.args.$$"
trap 'exit 255' TERM
start=0; prev=""; out=""
for a in "$@"; do
  if [ "$prev" = "-start_number" ]; then start=$a; fi
  prev=$a; out=$a
done
dir=$(dirname "$out")
${flood > 0 ? `head -c ${flood} /dev/zero | tr '\\0' 'w' | fold -w 99 | sed 's/^/[hls @ 0x1] warning /' >&2` : ''}
n=$start; i=0
while [ $i -lt ${o.segments === undefined || o.segments < 0 ? 600 : o.segments} ]; do
  sleep ${o.delay ?? 0.2}
  head -c 1880 /dev/zero > "$(printf '%s/live%06d.ts' "$dir" "$n")"
  first=$((n - 4)); if [ $first -lt $start ]; then first=$start; fi
  {
    echo "#EXTM3U"; echo "#EXT-X-VERSION:3"; echo "#EXT-X-TARGETDURATION:1"; echo "#EXT-X-MEDIA-SEQUENCE:$first"
    k=$first
    while [ $k -le $n ]; do echo "#EXTINF:1.000000,"; printf 'live%06d.ts\\n' "$k"; k=$((k + 1)); done
  } > "$dir/live.m3u8.tmp"
  mv "$dir/live.m3u8.tmp" "$out"
  n=$((n + 1)); i=$((i + 1))
done
${o.lastWords === undefined ? '' : `echo '${o.lastWords}' >&2`}
exit ${o.exitCode ?? 0}
`;
  writeFileSync(path, script, { mode: 0o755 });
  return {
    path,
    argsOf(pid) {
      return readFileSync(`${path}.args.${pid}`, 'utf8').split('\0').slice(0, -1);
    },
  };
}
