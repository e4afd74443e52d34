// One programme of a network as it runs: its FFmpeg, writing a rolling HLS window into the network's directory, and
// the watch that judges it by its output (B3). The manager owns the table of these and every decision about them.
import type { Child } from '../../core/process/child.ts';
import { spawnChild } from '../../core/process/child.ts';
import { maskUrls } from '../../core/process/mask.ts';
import { BroadcastError } from '../../errors.ts';
import { broadcastArgv } from './argv.ts';
import { DirWatch } from './dir-watch.ts';
import type { BroadcastManagerOptions } from './manager-options.ts';
import type { ProgrammeInput } from './start-input.ts';
import { chooseTracks } from './tracks.ts';
import type { BroadcastStatus } from './views.ts';

/** stderr lines that name why an input failed; kept to explain an exit (never used to decide one: B3, B4). */
const INPUT_ERROR = /error opening input|failed to resolve hostname|connection refused|connection timed out|server returned [45]|invalid data found|no such file or directory|protocol not found/i;

export interface Entry {
  readonly id: string;
  readonly dir: string;
  readonly dvr: boolean;
  readonly programme: ProgrammeInput;
  readonly startNumber: number;
  readonly startedAt: Date;
  readonly child: Child;
  readonly pid: number;
  readonly metadata: Record<string, unknown> | null;
  readonly next: ProgrammeInput | null;
  readonly watch: DirWatch;
  status: BroadcastStatus;
  errorMessage: string | null;
  /** The exit is ours (stop, transition, DELETE, shutdown): no callback. */
  quiet: boolean;
  /** False while the start still waits: a failure then is answered by the start, not by a callback (B2). */
  answered: boolean;
  inputError: string | null;
  stalled: boolean;
}

/** What a programme launch shares with the one before it. */
export interface Placement {
  dir: string;
  dvr: boolean;
  metadata: Record<string, unknown> | null;
  next: ProgrammeInput | null;
}

export interface ProgrammeStart {
  id: string;
  programme: ProgrammeInput;
  startNumber: number;
  discontinuity: boolean;
  readrate: boolean;
  at: Placement;
  /** File names earlier programmes' playlist still lists (B12): the watch must not delete them. */
  retained: () => ReadonlySet<string>;
}

/**
 * Spawns the programme's FFmpeg and makes its entry, with the watch not started yet. Throws BroadcastError when
 * FFmpeg could not be spawned at all.
 */
export async function spawnProgramme(o: BroadcastManagerOptions, s: ProgrammeStart): Promise<Entry> {
  const { id, programme: p, at } = s;
  const { audioMap, subtitle } = await chooseTracks(id, p, { ffprobePath: o.ffprobePath, children: o.children, logger: o.logger });
  const args = broadcastArgv({
    url: p.streamUrl, offset: p.offset, seekSeconds: p.seekSeconds, durationSeconds: p.durationSeconds, startNumber: s.startNumber,
    addDiscontinuity: s.discontinuity, segmentDuration: p.segmentDuration, listSize: p.listSize, dvr: at.dvr,
    transcode: p.transcode, videoCodec: p.videoCodec, audioCodec: p.audioCodec, preset: p.preset, videoBitrate: p.videoBitrate,
    audioBitrate: p.audioBitrate, videoResolution: p.videoResolution, hwaccel: p.hwaccel, headers: p.headers,
    audioMap, subtitle, readrate: s.readrate, dir: at.dir,
  });
  let entry: Entry | undefined;
  const child = spawnChild({
    command: o.ffmpegPath,
    args,
    stdout: 'ignore',
    keepLines: 20,
    onStderrLine: (line) => {
      if (entry !== undefined && INPUT_ERROR.test(line) && !/failed to delete old segment/i.test(line)) entry.inputError = maskUrls(line);
    },
  });
  o.children.add(child);
  if (child.pid === undefined) {
    const exit = await child.exited;
    const missing = exit.spawnError?.code === 'ENOENT';
    const why = missing ? `ffmpeg not found (FFMPEG_PATH=${o.ffmpegPath})` : String(exit.spawnError?.message);
    throw new BroadcastError(`Failed to start broadcast: ${why}`, missing ? 'FFMPEG_NOT_FOUND' : 'BROADCAST_START_FAILED');
  }
  const watch = new DirWatch({
    dir: at.dir,
    startNumber: s.startNumber,
    windowMs: p.listSize * p.segmentDuration * 1000,
    keepAll: at.dvr,
    retained: s.retained,
    // B3: judged by output; a seek into a remote file may take a while before the first segment.
    stallMs: o.stallMs ?? (3 * p.segmentDuration + 20) * 1000,
    intervalMs: o.watchIntervalMs,
    onStall: () => {
      if (entry === undefined || entry.quiet) return;
      o.logger.warn('broadcast stalled: no new segment, killing FFmpeg', { network_id: id });
      entry.stalled = true;
      entry.child.kill();
    },
    onError: (error) => o.logger.warn('broadcast directory not readable', { network_id: id, error: String(error) }),
  });
  entry = {
    id, dir: at.dir, dvr: at.dvr, programme: p, startNumber: s.startNumber, startedAt: new Date(), child, pid: child.pid, metadata: at.metadata,
    next: at.next, watch, status: 'running', errorMessage: null, quiet: false, answered: false, inputError: null, stalled: false,
  };
  return entry;
}
