// What route modules receive from the composition root; each route file takes only what it needs from it.
import type { Config } from '../../config.ts';
import type { Registry, StreamRecord } from '../../core/registry.ts';
import type { HlsGate } from '../../services/cluster/hls-gate.ts';
import type { Logger } from '../../log.ts';
import type { ConnectionTracker } from '../../services/upstream/connections.ts';
import type { SharingView } from '../../services/stats.ts';
import type { StreamService } from '../../services/streams.ts';
import type { TokenChecker } from '../auth.ts';
import type { RequestContext } from '../router.ts';

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
  /** SPEC §16: a stream unknown here is looked up in the cluster store (created on another node a moment ago). */
  clusterLookup?: (id: string) => Promise<StreamRecord | undefined>;
  /** SPEC §16: which node serves a stream's HLS requests. */
  hlsGate?: HlsGate;
  /** SPEC §16: passes a call that must act where the stream plays to its owner node; true when it did. */
  atOwner?: (ctx: RequestContext) => Promise<boolean>;
  /** SPEC §16: ends a client's sessions on whichever node has them (fire and forget). */
  kickElsewhere?: (streamId: string, clientId: string) => void;
}
