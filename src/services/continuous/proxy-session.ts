// One player's continuous/VOD session after the answer started: an upstream feed (upstream-feed.ts) writes into the
// player's response with backpressure and survives upstream failures without closing the player's connection.
import type { ServerResponse } from 'node:http';
import type { ClientRecord, Registry, StreamRecord } from '../../core/registry.ts';
import type { Logger } from '../../log.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import type { DisconnectReason, StreamService } from '../streams.ts';
import type { UpstreamStats } from '../upstream/upstream-stats.ts';
import { sendNow } from '../../core/send-now.ts';
import { createFeed, type FeedInput } from './upstream-feed.ts';

export type { BodyPlan } from './upstream-feed.ts';

export interface SessionDeps {
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
  stats: UpstreamStats;
  readTimeoutMs: number;
  /** DEFAULT_MAX_RETRIES: rounds over the ring of reconnects in a row that deliver no byte before the session gives up. */
  maxRetries: number;
}

/** A player's session: its response and client, and the upstream side its feed reads (upstream-feed.ts). */
export interface SessionInput extends Pick<FeedInput, 'ring' | 'fixedRing' | 'userAgent' | 'plan' | 'first' | 'sentAhead' | 'openRing'> {
  deps: SessionDeps;
  res: ServerResponse;
  stream: StreamRecord;
  client: ClientRecord;
}

export const DISCONNECT_REASONS: ReadonlySet<string> = new Set(['closed', 'deleted', 'kicked', 'timeout', 'error', 'shutdown']);

/** Runs until the body is complete, the player leaves, the connection is aborted, or every reconnect failed. */
export async function runSession(s: SessionInput): Promise<void> {
  const { deps, res, stream, client } = s;
  const { registry, streams, stats } = deps;
  let stopped = false;
  let endReason: DisconnectReason = 'closed';
  // Bytes sent ahead left at once (proxy-stream.ts): nothing is corked for this session to send.
  let sent = (s.sentAhead ?? 0) > 0;

  const feed = createFeed({
    deps,
    stream,
    ring: s.ring,
    fixedRing: s.fixedRing,
    userAgent: s.userAgent,
    plan: s.plan,
    first: s.first,
    sentAhead: s.sentAhead,
    openRing: s.openRing,
    clientId: client.clientId,
    // Hot path: count, then hand the chunk to the socket; false pauses the upstream until 'drain'.
    write: (chunk) => {
      registry.addBytes(client, stream, chunk.length);
      const more = res.write(chunk);
      if (!sent) {
        sent = true;
        sendNow(res);
      }
      return more;
    },
  });

  /** Ends this connection now: player side and upstream socket (DELETE, kick, shutdown, player gone). */
  function stop(reason: DisconnectReason): void {
    if (stopped) return;
    stopped = true;
    endReason = reason;
    feed.stop();
    if (!res.destroyed) res.destroy();
  }
  const onDrain = (): void => feed.resume();
  const onPlayerClose = (): void => {
    if (!res.writableFinished) stop('closed');
  };

  const unregister = deps.connections.add({
    client,
    abort: (reason) => stop(DISCONNECT_REASONS.has(reason) ? (reason as DisconnectReason) : 'closed'),
    switchUrl: () => {
      if (stopped || s.fixedRing) return;
      stats.recordManualSwitch();
      feed.switchUrl();
    },
  });
  res.on('drain', onDrain);
  res.once('close', onPlayerClose);

  try {
    const end = await feed.run();
    if (end === 'complete') res.end();
    // Headers are sent: the only honest signal left is to cut the player's connection.
    else if (end === 'failed' && !stopped) stop('error');
  } finally {
    feed.stop();
    res.off('drain', onDrain);
    res.off('close', onPlayerClose);
    unregister();
    streams.endClient(client, endReason);
  }
}
