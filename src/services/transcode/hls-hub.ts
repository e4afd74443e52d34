// One HLS-output transcode (SPEC §13): its process writes playlist and segments into the stream's directory;
// players fetch them through /hls/{id}/playlist.m3u8 and /hls/{id}/t/<name>. Started by the first playlist
// request, stopped when no player asked for anything for HLS_WAIT_TIME + SHARED_STREAM_GRACE, or when the stream
// is removed; the directory goes with it.
import { join } from 'node:path';
import type { StreamRecord } from '../../core/registry.ts';
import type { Logger } from '../../log.ts';
import type { StreamService } from '../streams.ts';
import { freshHlsDir, hlsDirOf, removeHlsDir } from './hls-dir.ts';
import { HLS_PLAYLIST } from './ffmpeg-argv.ts';
import type { StartedProcess } from './process-start.ts';
import { walkUrls, type Launch } from './ts-hub.ts';

export interface HlsHubDeps {
  streams: StreamService;
  logger: Logger;
  baseDir: string;
  idleMs: number;
  now(): number;
  /**
   * Teardowns still running, by stream id (shared by the engine's hubs): the directory is per stream id, so a new hub
   * of a re-created stream waits for the old one's removal, which would otherwise delete the new process's files.
   */
  teardowns: Map<string, Promise<void>>;
}

/** `launchIn(dir)`: starts the process writing into `dir`, resolving once its playlist exists. */
export type LaunchIn = (dir: string) => Launch;

export type HlsHub = ReturnType<typeof createHlsHub>;

export function createHlsHub(stream: StreamRecord, deps: HlsHubDeps, launchIn: LaunchIn, onClosed: () => void) {
  let current: StartedProcess | null = null;
  let starting: Promise<void> | null = null;
  let closed = false;
  let lastRequest = deps.now();
  const dir = hlsDirOf(deps.baseDir, stream.id);

  const idle = setInterval(() => {
    if (deps.now() - lastRequest > deps.idleMs) close();
  }, Math.max(50, Math.floor(deps.idleMs / 4)));
  idle.unref();

  async function ensureRunning(): Promise<string> {
    lastRequest = deps.now();
    if (current?.child.running) return dir;
    starting ??= (async () => {
      await deps.teardowns.get(stream.id);
      await freshHlsDir(deps.baseDir, stream.id);
      const { started } = await walkUrls(stream, stream.currentIndex, launchIn(dir), false, deps.streams);
      if (closed) {
        void started.child.stop();
        return;
      }
      current = started;
      void started.child.exited.then(() => {
        if (current === started) current = null; // the next request starts a new one
      });
    })().finally(() => (starting = null));
    await starting;
    return dir;
  }

  function close(): void {
    if (closed) return;
    closed = true;
    clearInterval(idle);
    const child = current?.child;
    current = null;
    const teardown = (async () => {
      await child?.stop();
      await removeHlsDir(deps.baseDir, stream.id);
    })().catch((err: unknown) => deps.logger.warn('HLS transcode directory not removed', { stream: stream.id, error: String(err) }));
    deps.teardowns.set(stream.id, teardown);
    void teardown.then(() => {
      if (deps.teardowns.get(stream.id) === teardown) deps.teardowns.delete(stream.id);
    });
    onClosed();
  }

  return {
    ensureRunning,
    /** Manual failover: the process stops now; the next request starts one on the stream's (new) current URL. */
    restart(): void {
      const child = current?.child;
      current = null;
      void child?.stop();
    },
    /** A segment request: the player is still there. */
    touch(): void {
      lastRequest = deps.now();
    },
    close,
    get closed() {
      return closed;
    },
    dir,
    playlistPath: join(dir, HLS_PLAYLIST),
    running: (): boolean => current?.child.running ?? false,
    pid: (): number | undefined => current?.child.pid,
    progress: () => current?.progress,
    /** The running process (for the dashboard). */
    process: (): StartedProcess | null => current,
  };
}
