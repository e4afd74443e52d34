// Who may open a live channel's provider connection (SPEC §16): the node holding the channel's lease. The first
// viewer's node acquires it (SET NX PX with a fencing epoch, lease.ts) and keeps renewing it while the shared
// upstream runs; a node that finds it held is told where the owner is, to relay from it. The owner drops its
// upstream before the lease can expire when Redis answers that the lease is gone or someone else's; while Redis
// cannot be reached at all it keeps what it owns (SPEC §16 "Redis down") and takes the lease again once back.
import { RedisError } from '../../core/redis/errors.ts';
import { ClusterUnavailableError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { clusterKeys, PREFIX } from './keys.ts';
import { acquireLease, type HeldLease, LeaseKeeper, leaseKeys, renewLease } from './lease.ts';
import type { ClusterLink } from './link.ts';

/** This node holds the lease: open the provider connection. */
export interface OwnerTurn {
  kind: 'owner';
  epoch: number;
  /** The shared upstream is running: `drop` ends it when the lease is lost; it then releases the lease itself. */
  bind(drop: (reason: string) => void): void;
  readonly bound: boolean;
  /** The upstream is gone or never opened: the lease goes. Idempotent. */
  release(): void;
}

/** Another node holds the lease: relay from `url` (its CLUSTER_NODE_URL). */
export interface RelayTurn {
  kind: 'relay';
  owner: string;
  url: string;
}

/** The lease is held by a node that cannot be reached (dead until its lease expires): ask again shortly. */
export interface WaitTurn {
  kind: 'wait';
  owner: string;
}

export type Turn = OwnerTurn | RelayTurn | WaitTurn;

/** The seam the shared live upstream asks before opening; absent, this process owns every channel (one node). */
export interface ChannelOwnership {
  take(streamId: string): Promise<Turn>;
  ownerUrl(streamId: string): Promise<string | undefined>;
  /** How long a viewer may wait for a dead owner's lease to expire. */
  readonly waitMs: number;
}

export type Ownership = ReturnType<typeof createOwnership>;

export function createOwnership(link: ClusterLink, logger: Logger) {
  const { redis, nodeId } = link;
  const ttlMs = link.config.leaseTtlMs;
  const renewEveryMs = Math.max(100, Math.floor(ttlMs / 3));
  const safetyMs = Math.max(200, Math.floor(ttlMs / 5));
  const held = new Set<{ release(): void; settled: Promise<void> }>();

  function own(streamId: string, first: HeldLease): OwnerTurn {
    let lease = first;
    let keeper: LeaseKeeper | undefined;
    let drop: ((reason: string) => void) | undefined;
    let done = false;
    let recovering: NodeJS.Timeout | undefined;
    let settle!: () => void;
    const entry = { release: () => turn.release(), settled: new Promise<void>((r) => (settle = r)) };

    const lose = (reason: string): void => {
      if (done) return;
      logger.warn('channel lease lost: dropping its upstream', { stream: streamId, reason, epoch: lease.epoch });
      finish(false);
      drop?.(reason);
    };
    const keep = (l: HeldLease): void => {
      lease = l;
      keeper = new LeaseKeeper(redis, l, { ttlMs, renewEveryMs, safetyMs, onLost: onLost });
    };
    function onLost(reason: string): void {
      if (done) return;
      if (redis.connected) return lose(reason);
      // Nobody can acquire while Redis is down for everyone: keep serving, take the lease back when it returns.
      logger.warn('cluster store unreachable: keeping the channel it owns', { stream: streamId });
      let busy = false;
      recovering = setInterval(() => {
        if (busy || done || !redis.connected) return;
        busy = true;
        void (async () => {
          try {
            const back = (await renewLease(redis, lease, ttlMs)) ? lease : await acquireLease(redis, lease.keys, nodeId, ttlMs);
            clearInterval(recovering);
            recovering = undefined;
            if (done) return;
            if (back === undefined) lose('another node took the lease while the cluster store was unreachable');
            else keep(back);
          } catch (err) {
            // Still unreachable or slow: the next interval tries again.
            void err;
          } finally {
            busy = false;
          }
        })();
      }, renewEveryMs);
      recovering.unref();
    }
    function finish(release: boolean): void {
      done = true;
      clearInterval(recovering);
      held.delete(entry);
      const k = keeper;
      keeper = undefined;
      (k?.stop(release) ?? Promise.resolve()).then(settle, (err: unknown) => {
        logger.warn('channel lease not released (it expires by itself)', { stream: streamId, error: String(err) });
        settle();
      });
    }
    const turn: OwnerTurn = {
      kind: 'owner',
      epoch: first.epoch,
      bind(d) {
        drop = d;
      },
      get bound() {
        return drop !== undefined;
      },
      release() {
        if (!done) finish(true);
      },
    };
    keep(first);
    held.add(entry);
    return turn;
  }

  /** Who holds the lease now: '' when nobody; the holder's URL when it is another node that is alive. */
  async function holder(streamId: string): Promise<{ owner: string; url: string | undefined }> {
    const value = await redis.command(['GET', leaseKeys(PREFIX, streamId).lease]);
    const owner = Buffer.isBuffer(value) ? (value.toString().split('|')[0] ?? '') : '';
    if (owner === '' || owner === nodeId) return { owner, url: undefined };
    const url = await redis.command(['GET', clusterKeys.node(owner)]);
    return { owner, url: Buffer.isBuffer(url) ? url.toString() : undefined };
  }

  async function take(streamId: string): Promise<Turn> {
    try {
      const lease = await acquireLease(redis, leaseKeys(PREFIX, streamId), nodeId, ttlMs);
      if (lease !== undefined) return own(streamId, lease);
      const { owner, url } = await holder(streamId);
      // Just released (or expired) between the two reads, our own being opened, or a dead node's: ask again.
      return url === undefined ? { kind: 'wait', owner } : { kind: 'relay', owner, url };
    } catch (err) {
      if (err instanceof RedisError) throw new ClusterUnavailableError();
      throw err;
    }
  }

  /** The URL of the other, living node that holds the lease, if any (does not take it). */
  async function ownerUrl(streamId: string): Promise<string | undefined> {
    try {
      return (await holder(streamId)).url;
    } catch (err) {
      if (err instanceof RedisError) throw new ClusterUnavailableError();
      throw err;
    }
  }

  const ownership: ChannelOwnership = { take, ownerUrl, waitMs: ttlMs + 2_000 };
  return {
    ownership,
    ttlMs,
    /** Graceful stop: every lease still held is released (the others would expire by themselves). */
    async releaseAll(): Promise<void> {
      const all = [...held];
      for (const h of all) h.release();
      await Promise.all(all.map((h) => h.settled));
    },
  };
}
