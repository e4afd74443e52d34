// Opening an upstream response from a stream's URL ring (SPEC §5.3), shared by continuous, VOD and HLS playback:
// every failed try is counted against the stream and by kind, and logged at debug without credentials.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry, StreamRecord } from '../../core/registry.ts';
import { discardResponse, upstreamErrorKind, type UpstreamClient } from '../../core/upstream/client.ts';
import { redactUrl } from '../../core/url.ts';
import { type AppError, NotFoundError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { walkRing } from './failover.ts';
import type { StreamService } from '../streams.ts';
import type { UpstreamStats } from './upstream-stats.ts';

/** An upstream response that was accepted, and where in the ring it came from. */
export interface OpenedUpstream {
  res: IncomingMessage;
  finalUrl: string;
  index: number;
}

/** Judges a response: true to use it, or the error that moves the walk on to the next URL. */
export type AcceptResponse = (res: IncomingMessage) => true | AppError;

export interface RingOpenerDeps {
  upstream: UpstreamClient;
  streams: StreamService;
  stats: UpstreamStats;
  logger: Logger;
  connectTimeoutMs: number;
}

export interface RingOpenRequest {
  stream: StreamRecord;
  ring: readonly string[];
  startIndex: number;
  headers: Record<string, string>;
  signal: AbortSignal;
  accept: AcceptResponse;
  rounds: number;
}

export type RingOpener = (r: RingOpenRequest) => Promise<OpenedUpstream>;

function ignoreUpstreamError(): void {
  // Registered on every upstream response we hold: the failure also shows as 'close'/'aborted', handled by its owner.
}

export function createRingOpener(deps: RingOpenerDeps): RingOpener {
  const { upstream, streams, stats, logger } = deps;
  return async (r) => {
    const { value, index } = await walkRing({
      ringLength: r.ring.length,
      startIndex: r.startIndex,
      rounds: r.rounds,
      signal: r.signal,
      attempt: async (i) => {
        const url = r.ring[i] ?? r.stream.url;
        const opened = await upstream.request(url, { method: 'GET', headers: r.headers, signal: r.signal, connectTimeoutMs: deps.connectTimeoutMs });
        opened.res.on('error', ignoreUpstreamError);
        const verdict = r.accept(opened.res);
        if (verdict !== true) {
          discardResponse(opened.res);
          throw verdict;
        }
        return opened;
      },
      onError: (err, i) => {
        streams.recordError(r.stream);
        stats.recordError(upstreamErrorKind(err));
        if (logger.isDebug()) {
          logger.debug('upstream attempt failed', { stream: r.stream.id, index: i, url: redactUrl(r.ring[i] ?? ''), code: err.code, error: err.message });
        }
      },
    });
    return { res: value.res, finalUrl: value.finalUrl, index };
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
