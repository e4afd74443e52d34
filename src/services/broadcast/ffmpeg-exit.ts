// How a broadcast FFmpeg ended, told the way the editor's reference told it, and which pacing flag a version takes.
import { constants } from 'node:os';
import type { Child, ChildExit } from '../../core/process/child.ts';

/** `-readrate_initial_burst` exists from FFmpeg 6.1 on; unknown builds (git snapshots) keep `-re`. */
export function readrateSupported(version: string): boolean {
  const m = /version n?(\d+)\.(\d+)/.exec(version);
  if (m === null) return false;
  const major = Number(m[1]);
  return major > 6 || (major === 6 && Number(m[2]) >= 1);
}

/** Python-style exit code (the editor's reference): negative signal number when killed. */
export function exitCode(exit: ChildExit): number {
  if (exit.code !== null) return exit.code;
  const signal = exit.signal === null ? undefined : constants.signals[exit.signal];
  return signal === undefined ? -1 : -signal;
}

export function exitText(exit: ChildExit): string {
  return `FFmpeg exited with code ${exitCode(exit)}`;
}

/** The exit if it comes within `ms`, else undefined; no timer is left behind. */
export function exitWithin(child: Child, ms: number): Promise<ChildExit | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    void child.exited.then((exit) => {
      clearTimeout(timer);
      resolve(exit);
    });
  });
}
