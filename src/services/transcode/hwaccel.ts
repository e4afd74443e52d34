// Which hardware video acceleration FFmpeg could really use on this host (SPEC §13, research §3.4), for /info:
// a VA-API render node the proxy user may open and an FFmpeg that lists vaapi, or NVIDIA (nvidia-smi answers and
// FFmpeg lists cuda). HW_ACCEL_* settings override the detection. The built-in profiles do not use it.
import { constants } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runProgram } from '../../core/process/program.ts';

export interface HardwareAcceleration {
  enabled: boolean;
  type: 'vaapi' | 'nvidia' | null;
  device: string | null;
}

export interface HwProbe {
  /** Where render nodes live (default /dev/dri). */
  driDir: string;
  /** `nvidia-smi` path. */
  nvidiaSmi: string;
  /** `ffmpeg -hide_banner -hwaccels`' methods, lower case (empty when FFmpeg is missing). */
  ffmpegHwaccels(): Promise<string[]>;
  /** HW_ACCEL_* settings. */
  forced: Readonly<{ available?: string; type?: string; device?: string }>;
}

const NONE: HardwareAcceleration = { enabled: false, type: null, device: null };

export async function detectHardware(p: HwProbe): Promise<HardwareAcceleration> {
  const forced = p.forced.available?.trim().toLowerCase();
  if (forced === 'false' || forced === '0') return NONE;
  if (forced === 'true' || forced === '1') {
    const type = p.forced.type?.toLowerCase() === 'nvidia' ? 'nvidia' : 'vaapi';
    return { enabled: true, type, device: p.forced.device || (type === 'nvidia' ? 'cuda' : join(p.driDir, 'renderD128')) };
  }
  const methods = await p.ffmpegHwaccels();
  if (methods.includes('vaapi')) {
    const nodes = await readdir(p.driDir).then(
      (names) => names.filter((n) => /^renderD\d+$/.test(n)).sort(),
      () => [] as string[], // no /dev/dri (a container without devices): no VA-API
    );
    for (const n of nodes) {
      const path = join(p.driDir, n);
      const usable = await access(path, constants.R_OK | constants.W_OK).then(
        () => true,
        () => false, // present but not ours to open (the video/render group is missing)
      );
      if (usable) return { enabled: true, type: 'vaapi', device: path };
    }
  }
  if (methods.includes('cuda') && (await runProgram(p.nvidiaSmi, ['-L'])).exit.code === 0) return { enabled: true, type: 'nvidia', device: 'cuda' };
  return NONE;
}

/** The methods `ffmpeg -hwaccels` prints after its header line. */
export function parseHwaccels(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l !== '' && !l.startsWith('hardware acceleration methods'));
}
