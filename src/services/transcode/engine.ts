// Playback of transcode streams (SPEC §13): the one owner of their processes. It answers /stream/{id} of a
// transcode (shared TS hub, or one process per viewer for unjoinable containers), counts processes against
// TRANSCODE_MAX_PROCESSES, and stops a stream's processes the moment the stream is removed or the proxy stops.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TranscodeConfig } from '../../config-transcode.ts';
import { ChildSet } from '../../core/process/child-set.ts';
import type { ClientInfo, Registry, StreamRecord } from '../../core/registry.ts';
import { TranscodeCapacityError, TranscodeFailedError } from '../../errors.ts';
import { isVodPath } from '../../core/url.ts';
import type { Logger } from '../../log.ts';
import type { StreamService } from '../streams.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import { runFileSession } from './file-session.ts';
import { HLS_PLAYLIST } from './ffmpeg-argv.ts';
import { createHlsHub, type HlsHub } from './hls-hub.ts';
import { createHlsOutput } from './hls-output.ts';
import { join } from 'node:path';
import { startProcess, type StartedProcess } from './process-start.ts';
import type { SpecCatalog, TranscodeSpec } from './spec.ts';
import { createTsHub, type Launch, type TsHub, walkUrls } from './ts-hub.ts';

export interface EngineDeps {
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
  /** The app's set of every child process (stopped last at shutdown); the engine also keeps its own. */
  children?: ChildSet;
  catalog: SpecCatalog;
  config: TranscodeConfig;
  readTimeoutMs: number;
  maxQueueBytes: number;
  /** The program for a spec's name (paths from the config). */
  commandOf(program: TranscodeSpec['program']): string;
  /** Tests shrink the restart back-off. */
  restartDelayMs?(n: number): number;
}

export interface TranscodePlayback {
  req: IncomingMessage;
  res: ServerResponse;
  stream: StreamRecord;
  spec: TranscodeSpec;
  clientId: string;
  info: ClientInfo;
  head: boolean;
}

export type TranscodeEngine = ReturnType<typeof createTranscodeEngine>;

export function createTranscodeEngine(deps: EngineDeps) {
  const { config, logger } = deps;
  const hubs = new Map<string, TsHub>();
  /** Per-viewer processes (unjoinable containers), by stream. */
  const single = new Map<string, Set<StartedProcess>>();
  let processes = 0;
  /** This engine's processes only: shutdown stops these without touching other owners' (broadcasts). */
  const own = new ChildSet();
  const hlsHubs = new Map<string, HlsHub>();

  const launcher = (stream: StreamRecord, spec: TranscodeSpec, hlsDir?: string): Launch => async (url, restart) => {
    // HLS output has no stdout: it has started once its playlist exists.
    const waitFor = hlsDir === undefined ? 'stdout' : { file: join(hlsDir, HLS_PLAYLIST) };
    if (!restart && config.maxProcesses > 0 && processes >= config.maxProcesses) throw new TranscodeCapacityError();
    processes++; // counted from now, so concurrent first viewers of different streams cannot overshoot
    try {
      const prepared = await spec.prepare(url, hlsDir);
      const started = await startProcess({
        program: spec.program,
        command: deps.commandOf(spec.program),
        args: prepared.args,
        cwd: prepared.cwd,
        startTimeoutMs: hlsDir === undefined ? config.startTimeoutMs : config.hlsWaitMs,
        waitFor,
        children: own,
        cleanup: prepared.cleanup,
        onDiagnostic: (line) => logger.debug('transcoder', { stream: stream.id, line }),
      });
      deps.children?.add(started.child);
      void started.child.exited.then(() => processes--);
      logger.info('transcode process started', { stream: stream.id, program: spec.program, pid: started.child.pid });
      return started;
    } catch (err) {
      processes--;
      throw err;
    }
  };

  function headersFor(spec: TranscodeSpec): Record<string, string> {
    return {
      'content-type': spec.output.contentType,
      'cache-control': 'no-cache, no-store, must-revalidate',
      pragma: 'no-cache',
      expires: '0',
      'accept-ranges': 'none',
    };
  }

  async function serve(p: TranscodePlayback): Promise<void> {
    const { res, stream, spec } = p;
    if (p.head) {
      // Answered here (defect D18): no process, no probe of the source.
      res.writeHead(200, headersFor(spec));
      res.end();
      return;
    }
    // A file input (a VOD) is watched from its start by each viewer, and an unjoinable container can only be: one
    // process per viewer. Live TS input with joinable output: one process for all.
    if (spec.output.kind === 'file' || isVodPath(stream.url)) return serveSingle(p);
    let hub = hubs.get(stream.id);
    if (!hub || hub.closed) {
      const created: TsHub = createTsHub(
        stream,
        {
          registry: deps.registry,
          streams: deps.streams,
          connections: deps.connections,
          logger,
          graceMs: config.graceMs,
          readTimeoutMs: deps.readTimeoutMs,
          maxQueueBytes: deps.maxQueueBytes,
          restartDelayMs: deps.restartDelayMs ?? ((n) => 1000 * 2 ** n),
        },
        launcher(stream, spec),
        () => {
          if (hubs.get(stream.id) === created) hubs.delete(stream.id);
        },
      );
      hub = created;
      hubs.set(stream.id, hub);
    }
    try {
      await hub.ensureRunning();
    } catch (err) {
      if (hub.viewerCount() === 0) hub.close();
      deps.streams.recordFailure(stream, (err as Error).message, p.clientId);
      throw err;
    }
    if (res.destroyed) {
      hub.releaseIfIdle(); // the player left while the process started: it must not run on for nobody
      return;
    }
    if (hub.closed) throw new TranscodeFailedError('The transcode stopped while starting');
    const client = deps.streams.openSession(stream, p.clientId, p.info);
    res.writeHead(200, headersFor(spec));
    await hub.join(res, client);
  }

  async function serveSingle(p: TranscodePlayback): Promise<void> {
    const { res, stream, spec } = p;
    const launch = launcher(stream, spec);
    let started: StartedProcess;
    try {
      ({ started } = await walkUrls(stream, stream.currentIndex, launch, false, deps.streams));
    } catch (err) {
      deps.streams.recordFailure(stream, (err as Error).message, p.clientId);
      throw err;
    }
    let set = single.get(stream.id);
    if (!set) single.set(stream.id, (set = new Set()));
    set.add(started);
    void started.child.exited.then(() => {
      set.delete(started);
      if (set.size === 0 && single.get(stream.id) === set) single.delete(stream.id);
    });
    if (res.destroyed || deps.registry.getStream(stream.id) !== stream) {
      void started.child.stop();
      return;
    }
    const client = deps.streams.openSession(stream, p.clientId, p.info);
    res.writeHead(200, headersFor(spec));
    await runFileSession(deps, stream, res, client, started);
  }

  const hlsTeardowns = new Map<string, Promise<void>>();
  /** The stream's HLS hub, created (not started) if needed. */
  function hlsHubOf(stream: StreamRecord, spec: TranscodeSpec): HlsHub {
    const found = hlsHubs.get(stream.id);
    if (found && !found.closed) return found;
    const hub: HlsHub = createHlsHub(
      stream,
      { streams: deps.streams, logger, baseDir: config.hlsDir, idleMs: config.hlsWaitMs + config.graceMs, now: () => deps.registry.now(), teardowns: hlsTeardowns },
      (dir) => launcher(stream, spec, dir),
      () => {
        if (hlsHubs.get(stream.id) === hub) hlsHubs.delete(stream.id);
      },
    );
    hlsHubs.set(stream.id, hub);
    return hub;
  }
  const hls = createHlsOutput({ registry: deps.registry, streams: deps.streams, hubOf: hlsHubOf, existing: (id) => hlsHubs.get(id) });

  /** The stream is gone: its processes stop now (SIGTERM to the group, SIGKILL after 5 s). */
  function removeStream(id: string): void {
    hlsHubs.get(id)?.close();
    hubs.get(id)?.close('deleted');
    for (const s of single.get(id) ?? []) void s.child.stop();
    deps.catalog.delete(id);
  }

  return {
    serve,
    /** A manual failover of an HLS transcode (shared TS processes follow through their viewers' connections). */
    manualFailover(id: string): void {
      hlsHubs.get(id)?.restart();
    },
    servePlaylist: hls.servePlaylist,
    serveFile: hls.serveFile,
    removeStream,
    /** Processes running now (all streams). */
    processCount: () => processes,
    /** The shared process's pid, for tests and stats; undefined when none runs. */
    pidOf: (id: string): number | undefined => hubs.get(id)?.pid() ?? hlsHubs.get(id)?.pid(),
    /** StreamStat output_media_info: live figures of the stream's (shared) process, or null. */
    mediaInfo(id: string): Record<string, number | string | null> | null {
      const spec = deps.catalog.get(id);
      if (!spec) return null;
      const hub = hubs.get(id);
      const first = single.get(id)?.values().next().value;
      const progress = hub?.progress() ?? hlsHubs.get(id)?.progress() ?? first?.progress;
      if (!progress) return null;
      return { ...progress, container: spec.output.format ?? 'mpegts' };
    },
    /** Every running process, shared ones first (the dashboard's Transcodes section). */
    processes(): { streamId: string; started: StartedProcess; bytes: number | null }[] {
      const out: { streamId: string; started: StartedProcess; bytes: number | null }[] = [];
      for (const [streamId, hub] of hubs) {
        const started = hub.process();
        if (started) out.push({ streamId, started, bytes: hub.bytesWritten() });
      }
      for (const [streamId, hub] of hlsHubs) {
        const started = hub.process();
        if (started) out.push({ streamId, started, bytes: null });
      }
      for (const [streamId, set] of single) for (const started of set) out.push({ streamId, started, bytes: null });
      return out;
    },
    /** Provider connections the stream's processes hold: one per process. */
    upstreamCount(id: string): number {
      return (hubs.get(id)?.running() ? 1 : 0) + (hlsHubs.get(id)?.running() ? 1 : 0) + (single.get(id)?.size ?? 0);
    },
    viewers: (id: string): number => hubs.get(id)?.viewerCount() ?? 0,
    /** Shutdown: every process stops; resolves when all have exited. */
    async closeAll(): Promise<void> {
      for (const hub of [...hubs.values()]) hub.close('shutdown');
      for (const hub of [...hlsHubs.values()]) hub.close();
      await own.stopAll();
    },
  };
}
