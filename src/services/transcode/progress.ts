// FFmpeg's `-progress pipe:2` lines (key=value, one block per second) and its classic status line, turned into the
// live figures StreamStat shows as `output_media_info` (the editor's monitor reads fps, bitrate_kbps, speed).

export interface ProgressFigures {
  fps: number | null;
  bitrate_kbps: number | null;
  speed: number | null;
}

export function emptyProgress(): ProgressFigures {
  return { fps: null, bitrate_kbps: null, speed: null };
}

const KEY_VALUE = /^([a-z_0-9]+)=\s*(.*)$/;

function num(text: string): number | null {
  const n = Number.parseFloat(text);
  return Number.isFinite(n) ? n : null;
}

/** A `-progress` line (`key=value`): true when it was one, so it is not taken as a diagnostic line. */
export function isProgressLine(line: string): boolean {
  const t = line.trim();
  return KEY_VALUE.test(t) || t.startsWith('frame=');
}

/** Updates `into` from one stderr line; lines that say nothing about progress leave it as it was. */
export function takeProgressLine(into: ProgressFigures, line: string): void {
  const t = line.trim();
  const kv = /\s\w+=/.test(t) ? null : KEY_VALUE.exec(t);
  if (kv) {
    const [, key, value] = kv;
    if (key === 'fps') into.fps = num(value!);
    else if (key === 'bitrate') into.bitrate_kbps = value === 'N/A' ? null : num(value!); // "2134.5kbits/s"
    else if (key === 'speed') into.speed = value === 'N/A' ? null : num(value!); // "1.01x"
    return;
  }
  // The status line FFmpeg prints without -nostats: "frame=  250 fps= 25 q=28.0 size= 1024kB time=… bitrate=2100.1kbits/s speed=1.0x"
  if (!t.startsWith('frame=') && !t.startsWith('size=')) return;
  const fps = /\bfps=\s*([\d.]+)/.exec(t);
  const bitrate = /\bbitrate=\s*([\d.]+)kbits\/s/.exec(t);
  const speed = /\bspeed=\s*([\d.]+)x/.exec(t);
  if (fps) into.fps = num(fps[1]!);
  if (bitrate) into.bitrate_kbps = num(bitrate[1]!);
  if (speed) into.speed = num(speed[1]!);
}
