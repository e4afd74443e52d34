// One stream's shared live upstream (SPEC §5.5): a single upstream feed, owned by the stream, fanned out to every
// viewer through a bounded chunk ring. It opens with its first viewer and closes the moment its last viewer leaves;
// the viewer that opened it is just one of them. Failover (automatic or manual) moves the one feed for everybody.
import type { ServerResponse } from 'node:http';
import { FanoutQueue } from '../../core/fanout-queue.ts';
import type { ClientRecord, Registry, StreamRecord } from '../../core/registry.ts';
import type { Logger } from '../../log.ts';
import { createFeed, type Feed, type FeedInput } from '../continuous/upstream-feed.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import type { DisconnectReason, StreamService } from '../streams.ts';
import type { UpstreamStats } from '../upstream/upstream-stats.ts';
import type { SharingCounters } from './sharing-counters.ts';
import { type FanoutViewer, joinFanout } from './fanout-viewer.ts';

export interface SharedUpstreamDeps {
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
  stats: UpstreamStats;
  counters: SharingCounters;
  readTimeoutMs: number;
  /** DEFAULT_MAX_RETRIES, as a player's own session (upstream-feed.ts). */
  maxRetries: number;
  maxQueueBytes: number;
}

export interface SharedUpstreamInput {
  deps: SharedUpstreamDeps;
  stream: StreamRecord;
  /** Status and mirrored headers of the first upstream answer: every viewer gets the same. */
  status: number;
  headers: Record<string, string>;
  /** The feed's upstream side: first response, ring, reopen (the same walk a player's own session uses). */
  feed: Pick<FeedInput, 'ring' | 'userAgent' | 'plan' | 'first' | 'openRing'>;
  /**
   * The first viewer's first bytes of `feed.first`, sent to it already (proxy-stream.ts): they open the stream for
   * later joiners too, and that viewer joins after them.
   */
  sentAhead?: Buffer;
  /** Called once, when the shared upstream is gone (last viewer left, upstream failed, stream deleted). */
  onClosed(): void;
}

/** Ticks of the viewer clock (readTimeoutMs / TICKS_PER_TIMEOUT each) a viewer may stay blocked before it is cut. */
const TICKS_PER_TIMEOUT = 4;

export type SharedUpstream = ReturnType<typeof createSharedUpstream>;

export function createSharedUpstream(input: SharedUpstreamInput) {
  const { deps, stream } = input;
  const { registry, streams, logger, counters } = deps;
  let closed = false;
  /** By client session key (unique per connection). */
  const viewers = new Map<string, FanoutViewer>();
  const queue = new FanoutQueue<FanoutViewer>({
    maxQueueBytes: deps.maxQueueBytes,
    onJump: (_r, skipped) => counters.recordJump(skipped),
  });

  // Appended before the feed reads on, so that the packet scanner sees the stream from its first byte.
  if (input.sentAhead !== undefined) queue.append(input.sentAhead);
  const feed: Feed = createFeed({
    deps: { streams, logger, stats: deps.stats, readTimeoutMs: deps.readTimeoutMs, maxRetries: deps.maxRetries },
    stream,
    ...input.feed,
    sentAhead: input.sentAhead?.length,
    fixedRing: false,
    clientId: null,
    // Hot path: one append hands the chunk to every viewer that can take it; the upstream pauses only when none can.
    write: (chunk) => {
      queue.append(chunk);
      return queue.ready > 0;
    },
    onReconnect: () => queue.restart(),
  });

  // A viewer that never reads blocks and stays blocked: cut it after about readTimeoutMs. A coarse clock, no per-chunk time.
  const clock = setInterval(() => {
    queue.tick++;
    for (const r of queue.readers()) {
      if (r.blocked && queue.tick - r.blockedTick > TICKS_PER_TIMEOUT) {
        counters.recordViewerTimeout();
        r.sink.leave('timeout');
        return; // the reader array changed; the rest are checked on the next tick
      }
    }
  }, Math.max(10, Math.floor(deps.readTimeoutMs / TICKS_PER_TIMEOUT)));
  clock.unref();

  /** Ends the shared upstream and every viewer still attached. Idempotent. */
  function close(reason: DisconnectReason = 'error'): void {
    if (closed) return;
    closed = true;
    clearInterval(clock);
    feed.stop();
    for (const v of [...viewers.values()]) v.leave(reason);
    queue.clear();
    input.onClosed();
  }

  void feed.run().then((end) => {
    if (closed) return;
    if (end === 'complete') {
      // A chunked live body that ended on purpose: viewers that have everything end cleanly, the others are cut.
      for (const v of viewers.values()) if (v.reader && !v.reader.blocked) v.res.end();
    }
    close(end === 'complete' ? 'closed' : 'error');
  });

  /**
   * Attaches a player whose response already has its headers; resolves when the viewer has left. `caughtUp`: the
   * player was sent everything appended so far (the first viewer, given its first bytes ahead).
   */
  function join(res: ServerResponse, client: ClientRecord, caughtUp = false): Promise<void> {
    return joinFanout({
      caughtUp,
      queue,
      viewers,
      res,
      client,
      stream,
      registry,
      streams,
      connections: deps.connections,
      resume: () => feed.resume(),
      switchUrl: () => {
        deps.stats.recordManualSwitch();
        feed.switchUrl();
      },
      // The last viewer took the upstream with it (SPEC §5.5: closed at once).
      afterLeave: () => {
        if (viewers.size === 0) close();
      },
    });
  }

  return {
    join,
    close,
    get closed() {
      return closed;
    },
    status: input.status,
    headers: input.headers,
    viewerCount: () => viewers.size,
    retainedBytes: () => queue.retainedBytes,
    /** Jump counters of the viewer with this client session key, or undefined. */
    viewerOf(clientKey: string): { skippedBytes: number; jumps: number } | undefined {
      const r = viewers.get(clientKey)?.reader;
      return r ? { skippedBytes: r.skippedBytes, jumps: r.jumps } : undefined;
    },
  };
}
