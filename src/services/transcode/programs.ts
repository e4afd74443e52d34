// Which external programs are installed, asked once each and remembered (defect D14: the reference ran `--version`
// on every request, blocking). Asked lazily, at the first request that needs the program.
import type { TranscodeConfig } from '../../config-transcode.ts';
import { probeProgram, type ProgramProbe } from '../../core/process/program.ts';
import type { ProgramName } from './process-start.ts';

export type Programs = ReturnType<typeof createPrograms>;

export function createPrograms(config: Pick<TranscodeConfig, 'ffmpegPath' | 'streamlinkPath' | 'ytdlpPath'>) {
  const cache = new Map<ProgramName, Promise<ProgramProbe>>();
  const pathOf = (name: ProgramName): string => (name === 'ffmpeg' ? config.ffmpegPath : name === 'streamlink' ? config.streamlinkPath : config.ytdlpPath);
  return {
    pathOf,
    probe(name: ProgramName): Promise<ProgramProbe> {
      let p = cache.get(name);
      if (!p) {
        p = probeProgram(pathOf(name), name === 'ffmpeg' ? ['-version'] : ['--version']);
        cache.set(name, p);
      }
      return p;
    },
  };
}
