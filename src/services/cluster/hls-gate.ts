// HLS in a cluster (SPEC §16, "HLS segments follow the same rule"): a stream's playlists and segments are fetched
// from the provider by one node, the holder of the stream's lease, which also keeps its HLS clients (so counts and
// client events come from one place). Another node forwards the player's request to the owner with the cluster
// secret, on the same path, and passes the answer back. The owner keeps the lease while the stream has HLS clients
// and releases it once the last one has timed out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from '../../core/registry.ts';
import { ClusterUnavailableError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ChannelOwnership, OwnerTurn } from './ownership.ts';
import { carriesClusterSecret } from './secret.ts';
import { forwardRequest, NOT_OWNER_HEADER } from './forward.ts';

/** Request headers a player's HLS request keeps on its way to the owner (the rest is this hop's business). */
const FORWARD = ['user-agent', 'range', 'if-range', 'if-none-match', 'if-modified-since', 'accept', 'x-username'];

export interface HlsRequest {
  req: IncomingMessage;
  res: ServerResponse;
  streamId: string;
  /** Path below ROOT_PATH with its query, as the owner's router will see it. */
  pathAndQuery: string;
  /** The player's address as this node identified it: the owner identifies the same client. */
  clientIp: string;
}

export interface HlsGateDeps {
  ownership: ChannelOwnership;
  registry: Registry;
  logger: Logger;
  secret: string;
  timeoutMs: number;
  /** How often owned streams are checked for clients left (tests shrink it). */
  sweepMs?: number;
}

export type HlsGate = ReturnType<typeof createHlsGate>;

export function createHlsGate(deps: HlsGateDeps) {
  const owned = new Map<string, OwnerTurn>();
  /** Requests being served here per lease key: a first request registers its client only once it has an answer. */
  const serving = new Map<string, number>();
  const sweep = setInterval(() => {
    for (const [key, turn] of owned) {
      if ((serving.get(key) ?? 0) > 0 || deps.registry.clientsOf(key.slice('hls:'.length)).some((c) => c.kind === 'hls')) continue;
      owned.delete(key);
      turn.release();
    }
  }, deps.sweepMs ?? 2_000);
  sweep.unref();

  /** Passes the request to the owner and its answer back; false when the owner could not be reached. */
  async function forward(h: HlsRequest, ownerUrl: string): Promise<boolean> {
    const done = await forwardRequest({ req: h.req, res: h.res, url: `${ownerUrl}${h.pathAndQuery}`, secret: deps.secret, clientIp: h.clientIp, keep: FORWARD, timeoutMs: deps.timeoutMs });
    if (!done) deps.logger.debug('HLS request to the stream owner failed', { stream: h.streamId, owner: ownerUrl });
    return done;
  }

  return {
    /**
     * Serves the request here (`local`) when this node owns the stream or the request comes from a node that
     * forwards it; otherwise forwards it to the owner, waiting (bounded) for a dead owner's lease to expire.
     */
    async serve(h: HlsRequest, local: () => Promise<void>): Promise<void> {
      // Its own lease key: a stream may also play as continuous TS, whose lease is another matter.
      const key = `hls:${h.streamId}`;
      const fromPeer = carriesClusterSecret(h.req.headers, deps.secret);
      const here = async (): Promise<void> => {
        serving.set(key, (serving.get(key) ?? 0) + 1);
        try {
          await local();
        } finally {
          const n = (serving.get(key) ?? 1) - 1;
          if (n > 0) serving.set(key, n);
          else serving.delete(key);
        }
      };
      const deadline = performance.now() + deps.ownership.waitMs;
      for (let attempt = 0; ; attempt++) {
        if (owned.has(key)) return here();
        const turn = await deps.ownership.take(key);
        if (turn.kind === 'owner') {
          owned.set(key, turn);
          turn.bind(() => owned.delete(key));
          return here();
        }
        if (fromPeer) {
          // Never forwarded twice: the asking node asks again.
          h.res.setHeader(NOT_OWNER_HEADER, 'no');
          throw new ClusterUnavailableError(`This node does not own stream ${h.streamId}`);
        }
        if (turn.kind === 'relay' && (await forward(h, turn.url))) return;
        if (h.res.destroyed) return;
        if (performance.now() > deadline) throw new ClusterUnavailableError(`The node owning stream ${h.streamId} cannot be reached`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(500, 100 + 50 * attempt) + Math.random() * 100));
      }
    },

    /** Shutdown: every HLS lease goes. */
    close(): void {
      clearInterval(sweep);
      for (const turn of owned.values()) turn.release();
      owned.clear();
    },
  };
}
