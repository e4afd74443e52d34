// Transcoding assembled (SPEC §13): the catalog of specs, the programs, the create service and the playback engine,
// tied to the stream service so that a removed stream's processes stop at once. The composition root calls this once.
import type { Config } from '../../config.ts';
import { DEFAULT_TRANSCODE_CONFIG } from '../../config-transcode.ts';
import type { ChildSet } from '../../core/process/child-set.ts';
import type { Registry } from '../../core/registry.ts';
import type { EventBus } from '../../core/events.ts';
import type { Logger } from '../../log.ts';
import type { StreamService } from '../streams.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import { createTranscodeEngine, type TranscodeEngine } from './engine.ts';
import { createPrograms } from './programs.ts';
import { createTranscodeService, type TranscodeService } from './service.ts';
import { SpecCatalog } from './spec.ts';
import { removeLeftoverHlsDirs } from './hls-dir.ts';

export interface Transcoding {
  service: TranscodeService;
  engine: TranscodeEngine;
  /** Shutdown: every transcode process stops (SIGTERM, SIGKILL after 5 s). */
  close(): Promise<void>;
}

export function createTranscoding(deps: {
  config: Config;
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
  bus: EventBus;
  /** The app's set of every child process. */
  children?: ChildSet;
  restartDelayMs?: (n: number) => number;
}): Transcoding {
  // Without transcoding settings (tests, older callers) the defaults, with the app's FFMPEG_PATH.
  const config = deps.config.transcode ?? { ...DEFAULT_TRANSCODE_CONFIG, ffmpegPath: deps.config.ffmpegPath };
  const catalog = new SpecCatalog();
  const programs = createPrograms(config);
  const engine = createTranscodeEngine({
    registry: deps.registry,
    streams: deps.streams,
    connections: deps.connections,
    logger: deps.logger,
    children: deps.children,
    catalog,
    config,
    readTimeoutMs: deps.config.readTimeoutMs,
    maxQueueBytes: deps.config.shareQueueBytes,
    commandOf: programs.pathOf,
    restartDelayMs: deps.restartDelayMs,
  });
  deps.streams.onRemoved((id) => engine.removeStream(id));
  deps.bus.subscribe((e) => {
    if (e.event_type === 'failover_triggered' && e.data['reason'] === 'manual') engine.manualFailover(e.stream_id);
  });
  // No process survives a restart: every HLS transcode directory found now is a leftover (SPEC §13).
  void removeLeftoverHlsDirs(config.hlsDir).then(
    (n) => n > 0 && deps.logger.info('leftover HLS transcode directories removed', { count: n, dir: config.hlsDir }),
    (err: unknown) => deps.logger.warn('leftover HLS transcode directories not removed', { dir: config.hlsDir, error: String(err) }),
  );
  const service = createTranscodeService({ streams: deps.streams, catalog, programs, config, rootPath: deps.config.rootPath });
  return { service, engine, close: () => engine.closeAll() };
}
