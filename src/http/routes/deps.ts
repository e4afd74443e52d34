// What route modules receive from the composition root; each route file takes only what it needs from it.
import type { Config } from '../../config.ts';
import type { Registry } from '../../core/registry.ts';
import type { Logger } from '../../log.ts';
import type { ConnectionTracker } from '../../services/upstream/connections.ts';
import type { SharingView } from '../../services/stats.ts';
import type { StreamService } from '../../services/streams.ts';
import type { TokenChecker } from '../auth.ts';

export interface RouteDeps {
  config: Config;
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
  auth: TokenChecker;
  /** Epoch ms of process start, for uptime. */
  startedAt: number;
  /** SPEC §5.5 figures (upstream connections, viewers, jumps) for the stats views. */
  sharing?: SharingView;
  /** SPEC §13: what /info says about FFmpeg, streamlink, yt-dlp and transcoding; absent: none of them. */
  transcodeInfo?: () => Promise<Record<string, unknown> & { transcoding: { enabled: boolean } }>;
}
