// Starting one transcode or resolver process and waiting for its first output (defect D16: no answer is sent
// before there is something to send). Exits before output, missing programs and start timeouts become the JSON
// errors SPEC §13 names; stderr is parsed for progress and its last diagnostic line kept, URLs masked.
import { access } from 'node:fs/promises';
import type { Child } from '../../core/process/child.ts';
import { spawnChild } from '../../core/process/child.ts';
import type { ChildSet } from '../../core/process/child-set.ts';
import { maskUrls } from '../../core/process/mask.ts';
import { ProgramNotFoundError, TranscodeFailedError, TranscodeTimeoutError } from '../../errors.ts';
import { emptyProgress, isProgressLine, type ProgressFigures, takeProgressLine } from './progress.ts';

export type ProgramName = 'ffmpeg' | 'streamlink' | 'yt-dlp';

export interface StartOptions {
  program: ProgramName;
  command: string;
  args: readonly string[];
  cwd?: string;
  startTimeoutMs: number;
  /** 'stdout': the first chunk on stdout; a path: that file exists (HLS output). */
  waitFor: 'stdout' | { file: string };
  children: ChildSet;
  /** Runs once the process has exited (temp cookie files). */
  cleanup?: () => Promise<void>;
  /** Every diagnostic (non-progress) stderr line, masked, for the log. */
  onDiagnostic?(line: string): void;
}

export interface StartedProcess {
  child: Child;
  /** The first stdout chunk ('stdout' mode), already taken from the pipe; stdout is paused after it. */
  first: Buffer | null;
  progress: ProgressFigures;
  /** Epoch ms of the spawn. */
  startedAt: number;
  /** The last diagnostic stderr line, URLs masked ('' when none). */
  lastLine(): string;
}

/** Polls for the HLS playlist at this period: FFmpeg gives no other signal that it wrote one. */
const FILE_POLL_MS = 100;

export function startProcess(o: StartOptions): Promise<StartedProcess> {
  const progress = emptyProgress();
  let last = '';
  const child = spawnChild({
    command: o.command,
    args: o.args,
    cwd: o.cwd,
    stdout: o.waitFor === 'stdout' ? 'pipe' : 'ignore',
    onStderrLine(line) {
      takeProgressLine(progress, line);
      if (isProgressLine(line)) return;
      last = maskUrls(line);
      o.onDiagnostic?.(last);
    },
  });
  o.children.add(child);
  // A cleanup that fails (a temp file that cannot be removed) is reported with the diagnostics, never thrown.
  void child.exited.then(() => o.cleanup?.()).catch((err: unknown) => o.onDiagnostic?.(`cleanup failed: ${String(err)}`));
  const started: StartedProcess = { child, first: null, progress, startedAt: Date.now(), lastLine: () => last };

  return new Promise<StartedProcess>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (poll !== undefined) clearInterval(poll);
      child.stdout?.off('data', onData);
      if (err) {
        void child.stop();
        reject(err);
      } else resolve(started);
    };
    const timer = setTimeout(() => finish(new TranscodeTimeoutError(Math.round(o.startTimeoutMs / 100) / 10)), o.startTimeoutMs);
    timer.unref();
    const onData = (chunk: Buffer): void => {
      child.stdout?.pause();
      started.first = chunk;
      finish(null);
    };
    let poll: NodeJS.Timeout | undefined;
    if (o.waitFor === 'stdout') child.stdout?.on('data', onData);
    else {
      const file = o.waitFor.file;
      poll = setInterval(() => {
        access(file).then(
          () => finish(null),
          () => undefined, // not there yet: the next poll looks again
        );
      }, FILE_POLL_MS);
      poll.unref();
    }
    void child.exited.then((exit) => {
      if (exit.spawnError) {
        finish(exit.spawnError.code === 'ENOENT' || exit.spawnError.code === 'EACCES' ? new ProgramNotFoundError(o.program) : new TranscodeFailedError(`${o.program} could not be started (${exit.spawnError.code ?? 'error'})`));
        return;
      }
      const how = exit.code !== null ? String(exit.code) : (exit.signal ?? 'unknown');
      finish(new TranscodeFailedError(`transcoder exited (${how})${last !== '' ? `: ${last}` : ''}`));
    });
  });
}
