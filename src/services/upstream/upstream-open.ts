// Opening an upstream response from a stream's URL ring (SPEC §5.3), shared by continuous, VOD and HLS playback:
// every failed try is counted against the stream and by kind, and logged at debug without credentials. The stream's
// options act here (SPEC §3.1): a failover resolver's next URL joins the walk, a sticky session asks the URL a redirect
// handed out, and strict_live_ts leaves out URLs that stalled lately.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Cancel, isCancelled, signalFor } from '../../core/cancel.ts';
import { placeResolvedUrl, type Registry, type StreamRecord, urlRing } from '../../core/registry.ts';
import { discardResponse, upstreamErrorKind, type UpstreamClient, type UpstreamResponse } from '../../core/upstream/client.ts';
import { redactUrl } from '../../core/url.ts';
import { type AppError, NotFoundError, UpstreamStatusError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { walkRing } from './failover.ts';
import type { FailoverResolver } from './resolver.ts';
import { isStalled } from './strict-live.ts';
import type { StreamService } from '../streams.ts';
import type { UpstreamStats } from './upstream-stats.ts';

/** An upstream response that was accepted, and where in the ring it came from. */
export interface OpenedUpstream {
  res: IncomingMessage;
  finalUrl: string;
  index: number;
  /** The ring position the walk started from: `index` differs when the walk failed over. */
  from: number;
}

/** Judges a response: true to use it, or the error that moves the walk on to the next URL. */
export type AcceptResponse = (res: IncomingMessage) => true | AppError;

export interface RingOpenerDeps {
  upstream: UpstreamClient;
  streams: StreamService;
  stats: UpstreamStats;
  logger: Logger;
  connectTimeoutMs: number;
  /** Asked for a next URL when a URL of a stream with a failover_resolver_url fails; default: the stream service's. */
  resolver?: FailoverResolver;
  now?: () => number;
}

/** Resolver answers tried within one walk at most: a resolver that keeps handing out dead URLs cannot hold a player. */
const MAX_RESOLVER_ASKS_PER_WALK = 3;
/** use_sticky_session: redirect targets remembered per stream. */
const MAX_STICKY_URLS = 32;

/** Cancel: a reconnect's own signal, or (a player's first open) the player's response, whose leaving stops the walk. */
export interface RingOpenRequest extends Cancel {
  stream: StreamRecord;
  ring: readonly string[];
  startIndex: number;
  headers: Record<string, string>;
  accept: AcceptResponse;
  rounds: number;
}

export type RingOpener = (r: RingOpenRequest) => Promise<OpenedUpstream>;

function ignoreUpstreamError(): void {
  // Registered on every upstream response we hold: the failure also shows as 'close'/'aborted', handled by its owner.
}

/**
 * True when the walk goes over the stream's own ring (perhaps with LL-HLS directives appended), not a fixed `?url=`
 * or a variant URL: only then may a resolver's answer join it, at a position that means the same for the stream.
 */
function walksStreamRing(stream: StreamRecord, ring: readonly string[]): boolean {
  const own = urlRing(stream);
  return ring.length === own.length && ring.every((u, i) => sameOrWithQuery(u, own[i]));
}

/** `u` is `base`, or `base` with LL-HLS directives appended to its query. */
function sameOrWithQuery(u: string, base: string | undefined): boolean {
  if (base === undefined || !u.startsWith(base)) return false;
  const next = u.charAt(base.length);
  return next === '' || next === '?' || next === '&';
}

export function createRingOpener(deps: RingOpenerDeps): RingOpener {
  const { upstream, streams, stats, logger } = deps;
  const now = deps.now ?? Date.now;
  const resolver = deps.resolver ?? streams.resolver;

  /** One request that the caller accepts, or the error that moves the walk on. */
  function tryUrl(r: RingOpenRequest, url: string): Promise<UpstreamResponse> {
    const { headers, signal, player } = r;
    // A step of its own, not an async function: the answer reaches the player's first byte with fewer hops (issue 24.8).
    return upstream.request(url, { method: 'GET', headers, signal, player, connectTimeoutMs: deps.connectTimeoutMs }).then((opened) => {
      opened.res.on('error', ignoreUpstreamError);
      const verdict = r.accept(opened.res);
      if (verdict !== true) {
        discardResponse(opened.res);
        throw verdict;
      }
      return opened;
    });
  }

  /** One ring position: its URL, or with use_sticky_session the URL a redirect pinned for it. */
  function trySticky(r: RingOpenRequest, entry: string): Promise<UpstreamResponse> {
    return r.stream.useStickySession ? tryPinned(r, entry) : tryUrl(r, entry);
  }

  /** use_sticky_session: the URL a redirect handed out is asked directly; when it fails, the entry URL once more. */
  async function tryPinned(r: RingOpenRequest, entry: string): Promise<UpstreamResponse> {
    const { stream } = r;
    const pinned = stream.stickyUrls.get(entry);
    let opened: UpstreamResponse;
    if (pinned === undefined) opened = await tryUrl(r, entry);
    else {
      try {
        opened = await tryUrl(r, pinned);
      } catch (err) {
        if (isCancelled(r)) throw err;
        // The pinned origin failed: back to the entry point, whose redirect may pin a healthy one.
        stream.stickyUrls.delete(entry);
        logger.info('sticky origin failed, back to the entry URL', { stream: stream.id, origin: redactUrl(pinned) });
        opened = await tryUrl(r, entry);
      }
    }
    if (stream.useStickySession && opened.finalUrl !== entry && opened.finalUrl !== pinned) {
      if (stream.stickyUrls.size >= MAX_STICKY_URLS) stream.stickyUrls.clear();
      stream.stickyUrls.set(entry, opened.finalUrl);
    }
    return opened;
  }

  return async (r) => {
    const { stream } = r;
    const useResolver = resolver !== undefined && stream.resolverUrl !== null && walksStreamRing(stream, r.ring);
    /** URLs a resolver handed out in this walk, by their ring position. */
    const resolved = new Map<number, string>();
    let asks = 0;
    const urlAt = (i: number): string => resolved.get(i) ?? r.ring[i] ?? stream.url;
    const { value, index } = await walkRing({
      ringLength: r.ring.length,
      startIndex: r.startIndex,
      rounds: r.rounds,
      signal: r.signal,
      player: r.player,
      attempt: (i) => trySticky(r, urlAt(i)),
      onError: (err, i) => {
        streams.recordError(stream);
        stats.recordError(upstreamErrorKind(err));
        if (logger.isDebug()) {
          logger.debug('upstream attempt failed', { stream: stream.id, index: i, url: redactUrl(urlAt(i)), code: err.code, error: err.message });
        }
      },
      skip: stream.strictLiveTs ? (i) => isStalled(stream, urlAt(i), now()) : undefined,
      next: useResolver
        ? async (failed, err) => {
            if (asks >= MAX_RESOLVER_ASKS_PER_WALK || resolver === undefined) return undefined;
            asks += 1;
            const cancel = signalFor(r);
            const answer = await resolver
              .next(stream, {
                currentUrl: urlAt(failed),
                currentIndex: failed,
                statusCode: err instanceof UpstreamStatusError ? err.upstreamStatus : null,
                reason: 'upstream_error',
                signal: cancel.signal,
              })
              .finally(cancel.done);
            if (answer.url === undefined || answer.url === urlAt(failed)) return undefined;
            const at = placeResolvedUrl(stream, answer.url);
            resolved.set(at, answer.url);
            return at;
          }
        : undefined,
    });
    return { res: value.res, finalUrl: value.finalUrl, index, from: r.startIndex };
  };
}

/**
 * Whether an upstream response that just arrived is still wanted. False (the response destroyed) when the player left
 * meanwhile: its 'close' has fired already and will not fire again. Throws 404 when the stream was deleted meanwhile,
 * so that no session or client record outlives it.
 */
export function stillWanted(res: ServerResponse, up: IncomingMessage, registry: Registry, stream: StreamRecord): boolean {
  if (res.destroyed) {
    up.destroy();
    return false;
  }
  if (registry.getStream(stream.id) !== stream) {
    up.destroy();
    throw new NotFoundError(`Stream ${stream.id}`);
  }
  return true;
}

/**
 * Answers HEAD, and the bodiless 304/416, with the mirrored headers only. HEAD is asked upstream as GET (origins answer
 * HEAD badly), so its body is destroyed; a small 304/416 body is read out so that its socket can be reused.
 */
export function answerHeadersOnly(res: ServerResponse, up: IncomingMessage, status: number, headers: Record<string, string>, head: boolean): void {
  res.writeHead(status, headers);
  res.end();
  if (head) up.destroy();
  else discardResponse(up);
}
