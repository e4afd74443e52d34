// One transcode process shared by all viewers of a stream whose output can be joined mid-way (MPEG-TS on stdout):
// the process's stdout feeds the SPEC §5.5 fan-out (late joiners start at a PAT, slow viewers jump to the live
// edge). The hub owns the process: started for the first viewer, restarted when it dies while viewers remain (then
// the next failover URL), stopped SHARED_STREAM_GRACE after the last viewer left, at once when the stream is removed.
import type { ServerResponse } from 'node:http';
import { FanoutQueue } from '../../core/fanout-queue.ts';
import { type ClientRecord, type Registry, type StreamRecord, urlRing } from '../../core/registry.ts';
import type { Child } from '../../core/process/child.ts';
import { TranscodeFailedError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { DisconnectReason, StreamService } from '../streams.ts';
import { type FanoutViewer, joinFanout } from '../sharing/fanout-viewer.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import type { StartedProcess } from './process-start.ts';

export interface HubDeps {
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
  graceMs: number;
  readTimeoutMs: number;
  maxQueueBytes: number;
  /** Back-off before restart n (0, 1, 2) of a process that died with viewers. */
  restartDelayMs(n: number): number;
}

/** Starts the stream's process on one URL; `restart`: the hub already holds a slot (capacity is not asked again). */
export type Launch = (url: string, restart: boolean) => Promise<StartedProcess>;

const RESTARTS_PER_WINDOW = 3;
const RESTART_WINDOW_MS = 60_000;
const TICKS_PER_TIMEOUT = 4;

/**
 * Tries the stream's URLs from `from`, each once, until a process produces output; a process that exits before any
 * output moves to the next URL, other failures (timeout, program missing, capacity) end the walk at once.
 */
export async function walkUrls(stream: StreamRecord, from: number, launch: Launch, restart: boolean, streams: StreamService): Promise<{ started: StartedProcess; index: number }> {
  const ring = urlRing(stream);
  let lastError: Error | undefined;
  for (let k = 0; k < ring.length; k++) {
    const index = (from + k) % ring.length;
    try {
      const started = await launch(ring[index]!, restart);
      if (index !== stream.currentIndex) streams.recordFailover(stream, stream.currentIndex, index, 'transcode_failed', null);
      return { started, index };
    } catch (err) {
      if (!(err instanceof TranscodeFailedError)) throw err;
      streams.recordError(stream);
      lastError = err;
    }
  }
  throw lastError ?? new TranscodeFailedError('The stream has no URL');
}

export type TsHub = ReturnType<typeof createTsHub>;

export function createTsHub(stream: StreamRecord, deps: HubDeps, launch: Launch, onClosed: () => void) {
  const { registry, streams, logger } = deps;
  const viewers = new Map<string, FanoutViewer>();
  const queue = new FanoutQueue<FanoutViewer>({ maxQueueBytes: deps.maxQueueBytes });
  let current: StartedProcess | null = null;
  let starting: Promise<void> | null = null;
  let closed = false;
  let grace: NodeJS.Timeout | undefined;
  let switching = false;
  const restarts: number[] = [];

  /** When the running process last wrote a byte: a process silent for readTimeoutMs is stalled (its input hangs). */
  let lastChunkAt = 0;
  const clock = setInterval(() => {
    queue.tick++;
    // Paused by backpressure is not a stall: the clock restarts from the pause.
    if (current?.child.stdout?.isPaused() === true) lastChunkAt = registry.now();
    else if (current && !switching && registry.now() - lastChunkAt > deps.readTimeoutMs) {
      logger.warn('transcode output stalled: restarting', { stream: stream.id, pid: current.child.pid });
      lastChunkAt = registry.now(); // once per stall: the stop below ends in onExit, which restarts
      void current.child.stop();
    }
    for (const r of queue.readers()) {
      if (r.blocked && queue.tick - r.blockedTick > TICKS_PER_TIMEOUT) {
        r.sink.leave('timeout');
        return;
      }
    }
  }, Math.max(10, Math.floor(deps.readTimeoutMs / TICKS_PER_TIMEOUT)));
  clock.unref();

  function attach(started: StartedProcess): void {
    current = started;
    const child = started.child;
    queue.restart(); // a new process is a new byte stream: packet phase and PAT are forgotten
    lastChunkAt = registry.now();
    if (started.first) queue.append(started.first);
    child.stdout?.on('data', (chunk: Buffer) => {
      lastChunkAt = registry.now();
      queue.append(chunk);
      // Paused only when viewers exist and none can take more; with none (grace period) the ring just rolls.
      if (queue.readerCount > 0 && queue.ready === 0) child.stdout?.pause();
    });
    child.stdout?.resume();
    void child.exited.then(() => onExit(child));
  }

  function onExit(child: Child): void {
    if (current?.child !== child) return;
    const last = current.lastLine();
    current = null;
    if (closed) return;
    if (viewers.size === 0) return close();
    const manual = switching;
    switching = false;
    const now = registry.now();
    while (restarts.length > 0 && now - restarts[0]! > RESTART_WINDOW_MS) restarts.shift();
    logger.warn('transcode process ended with viewers', { stream: stream.id, exit: child.exit?.code ?? child.exit?.signal ?? null, last });
    // A few restarts on the same URL, then one on each other URL, per window; past that the viewers are let go.
    if (!manual && restarts.length >= RESTARTS_PER_WINDOW + urlRing(stream).length - 1) {
      logger.warn('transcode keeps dying: viewers disconnected', { stream: stream.id, restarts: restarts.length });
      return close('error');
    }
    const sameUrl = !manual && restarts.length < RESTARTS_PER_WINDOW;
    const delay = manual ? 0 : deps.restartDelayMs(Math.min(restarts.length, RESTARTS_PER_WINDOW - 1));
    if (!manual) restarts.push(now);
    const from = stream.currentIndex;
    // Set at once, not after the delay: a viewer arriving meanwhile waits for this restart instead of starting its own.
    starting = new Promise<void>((resolve) => setTimeout(resolve, delay).unref())
      .then(() => {
        if (closed) return;
        // Same URL first (a crash, an input hiccup), then the others; a manual failover starts on its new URL.
        return walkUrls(stream, sameUrl ? from : manual ? stream.currentIndex : from + 1, launch, true, streams).then(({ started }) => {
          if (closed) void started.child.stop();
          else attach(started);
        });
      })
      .catch((err: unknown) => {
        logger.warn('transcode restart failed', { stream: stream.id, error: String(err) });
        close('error');
      })
      .finally(() => (starting = null));
  }

  /** The process is running (started for this viewer if needed); rejects with the JSON error for the first viewer. */
  async function ensureRunning(): Promise<void> {
    if (current) return;
    if (!starting) {
      starting = walkUrls(stream, stream.currentIndex, launch, false, streams).then(({ started }) => {
        if (closed) {
          void started.child.stop();
          return;
        }
        attach(started);
      });
      starting = starting.finally(() => (starting = null));
    }
    await starting;
  }

  function close(reason: DisconnectReason = 'closed'): void {
    if (closed) return;
    closed = true;
    clearInterval(clock);
    clearTimeout(grace);
    void current?.child.stop();
    for (const v of [...viewers.values()]) v.leave(reason);
    queue.clear();
    onClosed();
  }

  /** Attaches a player whose headers are sent; resolves when it has left. */
  function join(res: ServerResponse, client: ClientRecord): Promise<void> {
    clearTimeout(grace);
    return joinFanout({
      queue,
      viewers,
      res,
      client,
      stream,
      registry,
      streams,
      connections: deps.connections,
      resume: () => current?.child.stdout?.resume(),
      switchUrl,
      afterLeave: () => {
        if (current?.child.stdout?.isPaused() && queue.ready > 0) current.child.stdout.resume();
        releaseIfIdle();
      },
    });
  }

  /** No viewer (the last left, or the one it was started for vanished first): stop after the grace. */
  function releaseIfIdle(): void {
    if (viewers.size > 0 || closed) return;
    clearTimeout(grace);
    grace = setTimeout(() => close(), deps.graceMs);
    grace.unref();
  }

  /** Manual failover: one restart on the stream's new current URL, however many viewers asked (defect D11). */
  function switchUrl(): void {
    if (switching || !current) return;
    switching = true;
    void current.child.stop();
  }

  return {
    ensureRunning,
    join,
    releaseIfIdle,
    close,
    get closed() {
      return closed;
    },
    viewerCount: () => viewers.size,
    pid: (): number | undefined => current?.child.pid,
    running: (): boolean => current !== null,
    progress: () => current?.progress,
    /** The running process (for the dashboard), and the bytes it has written since the hub began. */
    process: (): StartedProcess | null => current,
    bytesWritten: (): number => queue.endOffset,
  };
}
