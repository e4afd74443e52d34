// The failover resolver client (SPEC §3.1, m3u-editor's resolver mode): when a stream's URL fails, or on a manual
// failover, POST {current_url, metadata, current_failover_index, status_code, reason} to the stream's
// failover_resolver_url and continue with the `next_url` it answers. Bounded in time; a failing resolver is logged
// once per stream until it answers again, and never throws into playback.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { StreamRecord } from '../../core/registry.ts';
import { parseHttpUrl, redactUrl } from '../../core/url.ts';
import type { Logger } from '../../log.ts';

/** The reference waits 10 s; a player is waiting on this answer, so a few seconds must do. */
export const DEFAULT_RESOLVER_TIMEOUT_MS = 4_000;
/** A `{next_url}` answer is tiny; anything bigger is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface ResolverQuestion {
  /** The URL that failed (or is current, for a manual failover). */
  currentUrl: string;
  /** Its position in the stream's ring. */
  currentIndex: number;
  /** The upstream's HTTP status when it answered with one, else null. */
  statusCode: number | null;
  reason: string;
  signal?: AbortSignal;
}

/** Why the resolver gave no URL: it answered without one, or it could not be asked (error, timeout, bad answer). */
export type ResolverAnswer = { url: string } | { url: undefined; failed: boolean };

export interface FailoverResolver {
  next(stream: StreamRecord, q: ResolverQuestion): Promise<ResolverAnswer>;
}

export interface ResolverDeps {
  logger: Logger;
  timeoutMs?: number;
}

class ResolverAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResolverAnswerError';
  }
}

export function createFailoverResolver(deps: ResolverDeps): FailoverResolver {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_RESOLVER_TIMEOUT_MS;
  /** Streams whose resolver failure was logged at warn since it last answered: logged once, not per player. */
  const failing = new WeakSet<StreamRecord>();

  return {
    async next(stream, q) {
      const target = stream.resolverUrl;
      if (target === null) return { url: undefined, failed: false };
      const payload = JSON.stringify({
        current_url: q.currentUrl,
        metadata: { ...stream.metadata },
        current_failover_index: q.currentIndex,
        status_code: q.statusCode,
        reason: q.reason,
      });
      const signal = q.signal === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([q.signal, AbortSignal.timeout(timeoutMs)]);
      try {
        const answer = await postJson(target, payload, signal);
        failing.delete(stream);
        const next = answer['next_url'];
        if (typeof next === 'string' && parseHttpUrl(next) !== undefined) {
          deps.logger.info('failover resolver answered', { stream: stream.id, reason: q.reason, next: redactUrl(next) });
          return { url: next };
        }
        deps.logger.info('failover resolver has no next URL', { stream: stream.id, reason: q.reason });
        return { url: undefined, failed: false };
      } catch (err) {
        // The player's own abort is not the resolver's failure.
        if (q.signal?.aborted === true) throw err;
        const fields = { stream: stream.id, resolver: redactUrl(target), error: err instanceof Error ? err.message : String(err) };
        if (failing.has(stream)) deps.logger.debug('failover resolver failed again', fields);
        else deps.logger.warn('failover resolver failed', fields);
        failing.add(stream);
        return { url: undefined, failed: true };
      }
    },
  };
}

/** One JSON POST; resolves the parsed object answer of a 2xx, rejects on anything else. */
function postJson(target: string, body: string, signal: AbortSignal): Promise<Record<string, unknown>> {
  const url = new URL(target);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body) };
    // No pool: resolver calls are rare, and a fresh socket cannot be a stale keep-alive one.
    const req = request(url, { method: 'POST', headers, signal, agent: false }, (res) => {
      readAnswer(res).then(resolve, reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function readAnswer(res: IncomingMessage): Promise<Record<string, unknown>> {
  const status = res.statusCode ?? 0;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      res.destroy();
      throw new ResolverAnswerError('answer too large');
    }
    chunks.push(chunk);
  }
  if (status < 200 || status > 299) throw new ResolverAnswerError(`answered HTTP ${status}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new ResolverAnswerError('answer is not JSON');
    throw err;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ResolverAnswerError('answer is not a JSON object');
  return parsed as Record<string, unknown>;
}
