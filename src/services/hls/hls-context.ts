// What every HLS handler is given: the wired dependencies and the identified request. Its own module so that the
// playlist, segment and opener modules can share these types without importing the composition (proxy-hls.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config.ts';
import type { RewriteContext } from '../../core/m3u8/rewrite-context.ts';
import type { ClientInfo, Registry, StreamRecord } from '../../core/registry.ts';
import type { Logger } from '../../log.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import type { RewriteMemoStore } from './hls-rewrite-memo.ts';
import type { VariantBook } from './hls-variants.ts';
import type { SegmentBook } from './segment-book.ts';
import type { SegmentUriBook } from './segment-uris.ts';
import type { HlsShare } from './hls-share.ts';
import type { StreamProxy } from '../continuous/proxy-stream.ts';
import type { StreamService } from '../streams.ts';
import type { RingOpener } from '../upstream/upstream-open.ts';
import type { UpstreamStats } from '../upstream/upstream-stats.ts';

export interface HlsDeps {
  config: Pick<Config, 'readTimeoutMs' | 'connectTimeoutMs' | 'hlsMaxPlaylistLines' | 'hlsMaxPlaylistBytes'>;
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
  stats: UpstreamStats;
  openFromRing: RingOpener;
  streamProxy: StreamProxy;
  memos: RewriteMemoStore;
  /** Segment URIs by media sequence number, kept across a failover. */
  segmentUris: SegmentUriBook;
  variants: VariantBook;
  /** Where served segments came from, for segment failover. */
  book: SegmentBook;
  /** Upstream fetches and answers shared between the viewers of a stream. */
  share: HlsShare;
  /**
   * The proxify functions of one playlist answer: upstream URL → the URI the player gets, relative to the answer's
   * own path (below ROOT_PATH) unless PUBLIC_URL is set.
   */
  urls(streamId: string, clientId: string, requestPath: string): Pick<RewriteContext, 'proxify' | 'segmentWriter'>;
}

/** What every HLS request carries once the route has identified the stream and the client. */
export interface HlsRequest {
  req: IncomingMessage;
  res: ServerResponse;
  stream: StreamRecord;
  clientId: string;
  info: ClientInfo;
}
