// A stream's ring of URLs: where it plays from, and where a failover resolver's answers go in it.
import { MAX_RESOLVED_URLS, type StreamRecord } from './stream-record.ts';

/** The ring of URLs a stream plays from: [primary, ...failovers, ...URLs a failover resolver handed out]. */
export function urlRing(stream: StreamRecord): string[] {
  return [stream.url, ...stream.failoverUrls, ...stream.resolvedUrls];
}

/**
 * The ring position of a URL a failover resolver handed out: its existing position when the ring has it, else a
 * new slot at the ring's tail (reusing the oldest resolved slot once MAX_RESOLVED_URLS are kept, so positions stay stable).
 */
export function placeResolvedUrl(stream: StreamRecord, url: string): number {
  const ring = urlRing(stream);
  const found = ring.indexOf(url);
  if (found >= 0) return found;
  const base = 1 + stream.failoverUrls.length;
  if (stream.resolvedUrls.length < MAX_RESOLVED_URLS) {
    stream.resolvedUrls.push(url);
    return base + stream.resolvedUrls.length - 1;
  }
  const slot = stream.failoverAttempts % MAX_RESOLVED_URLS;
  stream.resolvedUrls[slot] = url;
  return base + slot;
}
