// Continuous and VOD playback (SPEC §5.1): open an upstream from the URL ring before answering, then hand the
// player's response to a session that pumps bytes and survives upstream failures (proxy-session.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config.ts';
import { type ClientInfo, type Registry, type StreamRecord, urlRing } from '../../core/registry.ts';
import type { UpstreamClient } from '../../core/upstream/client.ts';
import {
  buildUpstreamHeaders,
  isUsableMediaStatus,
  mirrorResponseHeaders,
  parseContentLength,
  parseContentRange,
  pickPlayerHeaders,
} from '../../core/upstream/headers.ts';
import { takePlaylistVerdict, waitForPlaylistVerdict } from '../../core/upstream/peek.ts';
import { sendFirst, sendHeld } from '../../core/send-now.ts';
import { isPlaylistPath, isVodPath } from '../../core/url.ts';
import { AppError, PlaylistAsMediaError, UpstreamError, UpstreamStatusError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import { roundsFor } from '../upstream/failover.ts';
import { type BodyPlan, runSession } from './proxy-session.ts';
import type { AcceptResponse, OpenedUpstream } from '../upstream/upstream-open.ts';
import type { StreamService } from '../streams.ts';
import { answerHeadersOnly, createRingOpener, stillWanted } from '../upstream/upstream-open.ts';
import type { UpstreamStats } from '../upstream/upstream-stats.ts';
import type { LiveShare } from '../sharing/live-share.ts';
import type { SharedUpstream } from '../sharing/shared-upstream.ts';
import type { ChannelOwnership, OwnerTurn } from '../cluster/ownership.ts';
import type { RelayClient } from '../cluster/relay-client.ts';
import { ClusterUnavailableError } from '../../errors.ts';

export interface StreamProxyDeps {
  config: Pick<Config, 'connectTimeoutMs' | 'readTimeoutMs' | 'maxRetries'>;
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
  upstream: UpstreamClient;
  stats: UpstreamStats;
  /** SPEC §5.5: live streams share one upstream; absent, every player opens its own. */
  share?: LiveShare;
  /** SPEC §16: the lease decides which node opens a shared live upstream; the others relay. Absent: one node. */
  cluster?: { ownership: ChannelOwnership; relay: RelayClient; position(streamId: string): Promise<number | undefined> };
}

export interface PlaybackRequest {
  req: IncomingMessage;
  res: ServerResponse;
  stream: StreamRecord;
  clientId: string;
  info: ClientInfo;
  /** HEAD: same status and headers, no body, no client session. */
  head: boolean;
  /** The reference's `?url=` form (the route checked the API token): this URL only, no failover ring. */
  overrideUrl?: string;
  /**
   * Where the same stream plays as HLS. A playlist answered on /stream/{id} is sent there (302) instead of being passed
   * through: passed through, it would hand the player every upstream URL and credential in it (SPEC §5.4).
   */
  hlsUrl?: () => string;
  /** SPEC §16: another node relaying this stream; served only by the owner (never relayed further). */
  peer?: boolean;
}

export type StreamProxy = ReturnType<typeof createStreamProxy>;

export function createStreamProxy(deps: StreamProxyDeps) {
  const { config, registry, streams, stats, logger } = deps;
  const rounds = roundsFor(config.maxRetries);
  const openFromRing = createRingOpener({ upstream: deps.upstream, streams, stats, logger, connectTimeoutMs: config.connectTimeoutMs });

  function requestHeaders(p: PlaybackRequest): { player: Record<string, string>; userAgent: string; headers: Record<string, string> } {
    const player = pickPlayerHeaders(p.req.headers);
    const userAgent = streams.userAgentOf(p.stream);
    return { player, userAgent, headers: buildUpstreamHeaders({ userAgent, custom: p.stream.headers, forwarded: player }) };
  }

  async function serve(p: PlaybackRequest): Promise<void> {
    const { res, stream } = p;
    const share = deps.share;
    // SPEC §5.5: a running shared upstream serves this viewer without another upstream request.
    let settleClaim: (() => void) | undefined;
    if (share && deps.cluster && share.mayShare(stream, p.req.headers, p.head, p.overrideUrl !== undefined)) {
      return serveInCluster(p, share, deps.cluster);
    }
    if (p.peer) throw new ClusterUnavailableError(`Stream ${stream.id} is not relayed between nodes`);
    if (share && share.mayShare(stream, p.req.headers, p.head, p.overrideUrl !== undefined)) {
      const now = share.findNow(stream.id);
      // Nothing running nor opening: this viewer opens it, claimed in the same step as that check, and viewers
      // arriving meanwhile wait for its answer instead of opening their own.
      const turn = now === undefined ? { claim: share.claim(stream.id) } : now === 'opening' ? await share.findOrClaim(stream.id) : { hub: now };
      if ('hub' in turn) {
        if (res.destroyed) return;
        // Returned, not awaited: this function's frame is not kept for the whole session of every viewer (issue 24.7).
        return joinHub(p, share, turn.hub);
      }
      settleClaim = turn.claim;
    }
    try {
      await openAndServe(p, settleClaim);
    } finally {
      settleClaim?.();
    }
  }

  /** A viewer joining a running shared upstream: its session, the hub's answer head, then its bytes. */
  function joinHub(p: PlaybackRequest, share: LiveShare, hub: SharedUpstream): Promise<void> {
    const client = streams.openSession(p.stream, p.clientId, p.info, p.peer ? 'relay' : 'viewer');
    p.res.writeHead(hub.status, hub.headers);
    return share.join(hub, p.res, client);
  }

  /**
   * The HLS route's playlist URL answered media (a continuous stream behind an .m3u8 link): served as /stream serves
   * it, so that its viewers share one upstream (SPEC §5.5). The claim is made before this returns its promise: the
   * playlist's waiting viewers, let go after that, find it and join. Not shared across nodes (SPEC §16 leases are
   * taken on /stream only): there, as before, each such viewer has its own upstream.
   */
  async function serveMedia(p: PlaybackRequest, opened: OpenedUpstream): Promise<void> {
    const share = deps.share;
    if (!share || deps.cluster || !share.mayShare(p.stream, p.req.headers, p.head, p.overrideUrl !== undefined)) return serveOpened(p, opened);
    // findOrClaim claims within this call, before its first wait: no sooner is needed here.
    const turn = await share.findOrClaim(p.stream.id);
    if ('hub' in turn) {
      opened.res.destroy();
      if (p.res.destroyed) return;
      return joinHub(p, share, turn.hub);
    }
    try {
      await serveOpened(p, opened, turn.claim);
    } finally {
      turn.claim();
    }
  }

  /** Whether a viewer of this stream, known to be continuous, now joins a shared upstream running or being opened. */
  function sharesNow(stream: StreamRecord): boolean {
    return deps.share !== undefined && stream.observedType === 'Live Continuous' && deps.share.findNow(stream.id) !== undefined;
  }

  /**
   * SPEC §16: a running shared upstream here is joined; otherwise the channel lease decides: this node opens the
   * provider connection, or relays from the owner, or waits (bounded) for a dead owner's lease to expire.
   */
  async function serveInCluster(p: PlaybackRequest, share: LiveShare, cluster: NonNullable<StreamProxyDeps['cluster']>): Promise<void> {
    const { res, stream } = p;
    const deadline = performance.now() + cluster.ownership.waitMs;
    for (let attempt = 0; ; attempt++) {
      const found = await share.findOrClaim(stream.id);
      if (res.destroyed) {
        if ('claim' in found) found.claim();
        return;
      }
      if ('hub' in found) return joinHub(p, share, found.hub);
      const settleClaim = found.claim;
      let turn;
      try {
        turn = await cluster.ownership.take(stream.id);
      } catch (err) {
        settleClaim();
        throw err;
      }
      if (turn.kind === 'owner') {
        try {
          // Where the previous owner left the stream (its failovers), when that is still a place in the ring.
          const at = await cluster.position(stream.id).catch((err: unknown) => {
            logger.warn('stream position not read from the cluster store: starting from this node\'s', { stream: stream.id, error: String(err) });
            return undefined;
          });
          if (at !== undefined && at < urlRing(stream).length) stream.currentIndex = at;
          await openAndServe(p, settleClaim, turn);
        } finally {
          settleClaim();
          if (!turn.bound) turn.release();
        }
        return;
      }
      settleClaim();
      // A relay request that reached a node that is not (or no longer) the owner: the asking node asks again.
      if (p.peer) throw new ClusterUnavailableError(`This node does not own stream ${stream.id}`);
      if (turn.kind === 'relay' && (await cluster.relay.serve(p, turn.url))) return;
      if (performance.now() > deadline) throw new ClusterUnavailableError(`The node owning stream ${stream.id} cannot be reached`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, 100 + 50 * attempt) + Math.random() * 100));
    }
  }

  /** `settleClaim`: this request may start the stream's shared upstream; called once the answer is known. */
  async function openAndServe(p: PlaybackRequest, settleClaim: (() => void) | undefined, owner?: OwnerTurn): Promise<void> {
    const { res, stream } = p;
    const { player, headers } = requestHeaders(p);
    const accept: AcceptResponse = (r) => (isUsableMediaStatus(r.statusCode ?? 0, player) ? true : new UpstreamStatusError(r.statusCode ?? 0));

    let opened: OpenedUpstream;
    for (let reopened = false; ; reopened = true) {
      const ring = p.overrideUrl !== undefined ? [p.overrideUrl] : urlRing(stream);
      const startIndex = p.overrideUrl !== undefined ? 0 : Math.min(stream.currentIndex, ring.length - 1);
      try {
        // Until the session owns the response, a vanished player stops the opening walk.
        opened = await openFromRing({ stream, ring, startIndex, headers, player: res, accept, rounds });
      } catch (err) {
        if (res.destroyed) return;
        const e = err as AppError;
        if (registry.getStream(stream.id) === stream) streams.recordFailure(stream, e.message, p.clientId);
        throw e; // answered and logged once, by the error boundary
      }
      // The stream failed over while this open was on its way (a manual failover moves only the players already
      // playing): this player follows it once, or it would hold the stream's viewers on the URL just left (SPEC §5.3).
      const current = Math.min(stream.currentIndex, ring.length - 1);
      if (reopened || p.overrideUrl !== undefined || current === startIndex || current === opened.index) break;
      opened.res.destroy();
    }
    await serveOpened(p, opened, settleClaim, owner);
  }

  /**
   * Answers the player from an upstream response already opened and accepted (by serve(), or by the HLS route when a
   * "playlist" URL turned out to be media), then keeps the session alive across upstream failures.
   */
  async function serveOpened(p: PlaybackRequest, opened: OpenedUpstream, settleClaim?: () => void, owner?: OwnerTurn): Promise<void> {
    const { res, stream } = p;
    const up = opened.res;
    // Judged from the bytes too, not only the type (issue 14.2): a playlist body is never relayed raw.
    // Decided from the bytes that came with the headers when they suffice, without a tick's wait.
    // When the held bytes decide, they come back read out: they are this answer's first write below, or go with `up`.
    const now = takePlaylistVerdict(up, p.head);
    const playlistBody = now?.playlist ?? (await waitForPlaylistVerdict(up, { timeoutMs: config.readTimeoutMs, player: res }).catch((err: unknown) => failedBody(up, err)));
    if (!stillWanted(res, up, registry, stream)) return;
    const ring = p.overrideUrl !== undefined ? [p.overrideUrl] : urlRing(stream);
    // Measured from where this walk started: the stream's current URL may have moved meanwhile (a manual failover),
    // and a failover recorded from there would undo that move.
    if (p.overrideUrl === undefined && opened.index !== opened.from) {
      if (streams.recordFailover(stream, opened.from, opened.index, 'upstream_error', p.clientId)) stats.recordFailover();
    }

    const status = up.statusCode ?? 502;
    if (p.hlsUrl !== undefined && (status === 200 || status === 206) && (playlistBody || isPlaylistResponse(up, opened.finalUrl))) {
      up.destroy();
      res.writeHead(302, { location: p.hlsUrl(), 'cache-control': 'no-cache' });
      res.end();
      return;
    }
    if (playlistBody) {
      up.destroy();
      throw new PlaylistAsMediaError();
    }
    const plan = bodyPlanOf(up);
    if (status === 200 || status === 206) {
      stream.observedType = plan.kind === 'vod' || isVodPath(opened.finalUrl) ? 'VOD' : 'Live Continuous';
    }
    const outHeaders = mirrorResponseHeaders(up.headers, opened.finalUrl);
    if (p.head || (status !== 200 && status !== 206)) {
      answerHeadersOnly(res, up, status, outHeaders, p.head); // no session
      return;
    }

    res.writeHead(status, outHeaders);
    // The bytes the sniff read leave first; the session, its events and a channel's shared upstream are made after
    // them, while the player reads (issue 24.8).
    const ahead = now?.held !== undefined ? sendFirst(res, now.held) : sendHeld(res, up);
    const userAgent = streams.userAgentOf(stream);
    const client = streams.openSession(stream, p.clientId, p.info, p.peer ? 'relay' : 'viewer');
    if (ahead !== undefined) registry.addBytes(client, stream, ahead.length);
    if (settleClaim && deps.share && plan.kind === 'live' && status === 200) {
      // The first viewer's answer becomes the stream's: the feed below belongs to the stream, not to this viewer.
      const hub = deps.share.start({
        stream,
        status,
        headers: outHeaders,
        feed: {
          ring: () => urlRing(stream),
          userAgent,
          plan,
          first: opened,
          openRing: (ringNow, startAt, hdrs, signal, acceptNext) =>
            openFromRing({ stream, ring: ringNow, startIndex: startAt, headers: hdrs, signal, accept: acceptNext, rounds }),
        },
        sentAhead: ahead,
        onClosed: owner === undefined ? undefined : () => owner.release(),
      });
      // SPEC §16: a lease that cannot be kept takes the provider connection down with it.
      owner?.bind(() => hub.close('error'));
      const joined = deps.share.join(hub, res, client, ahead !== undefined);
      settleClaim(); // viewers waiting for this answer join now
      await joined;
      return;
    }
    // Not shareable after all (a file, a Range answer): viewers waiting for this answer open their own.
    settleClaim?.();
    // SPEC §16: nor is it a channel: no lease is held for it, so the other nodes' viewers open their own too.
    owner?.release();
    await runSession({
      deps: { registry, streams, connections: deps.connections, logger, stats, readTimeoutMs: config.readTimeoutMs, maxRetries: config.maxRetries },
      res,
      stream,
      client,
      ring: () => (p.overrideUrl !== undefined ? ring : urlRing(stream)),
      fixedRing: p.overrideUrl !== undefined,
      userAgent,
      plan,
      first: opened,
      sentAhead: ahead?.length,
      openRing: (ringNow, startAt, hdrs, signal, acceptNext) =>
        openFromRing({ stream, ring: ringNow, startIndex: startAt, headers: hdrs, signal, accept: acceptNext, rounds }),
    });
  }

  return { serve, serveOpened, serveMedia, sharesNow };
}

/** A body that failed while it was judged: its upstream goes, and the player gets a 502 JSON error (SPEC §9). */
function failedBody(up: IncomingMessage, err: unknown): never {
  up.destroy();
  throw err instanceof AppError ? err : new UpstreamError('Upstream body could not be read', { cause: err });
}

/** An HLS playlist by its type or its final URL's path (.m3u8/.m3u): never passed through raw. */
function isPlaylistResponse(up: IncomingMessage, finalUrl: string): boolean {
  const type = (header(up.headers['content-type']) ?? '').toLowerCase();
  return type.includes('mpegurl') || isPlaylistPath(finalUrl);
}

/** How the first response frames its body: a byte range of a file that can be resumed, or a live stream. */
export function bodyPlanOf(up: IncomingMessage): BodyPlan {
  const range = parseContentRange(header(up.headers['content-range']));
  const length = parseContentLength(header(up.headers['content-length']));
  if (up.statusCode === 206 && range) return { kind: 'vod', firstByte: range.start, lastByte: range.end, total: range.total };
  if (up.statusCode === 200 && length !== undefined) return { kind: 'vod', firstByte: 0, lastByte: length - 1, total: length };
  const te = header(up.headers['transfer-encoding']) ?? '';
  // A chunked body ends on purpose; a body delimited by the connection closing may just have lost its origin.
  return { kind: 'live', closeDelimited: !/chunked/i.test(te) };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
