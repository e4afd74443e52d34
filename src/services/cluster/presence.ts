// Viewer counts cluster-wide (SPEC §16): every tick a node writes its own viewers per stream to a key that expires
// by itself (never an INCR/DECR counter that can drift: research/scale-out.md §1.4) and reads the other nodes'.
// A dead node's counts vanish with its key. Relay sessions (a peer node fetching from the owner) are not viewers:
// the peer counts its own viewers, so the caller leaves them out of the local figures.
import { clusterKeys } from './keys.ts';
import type { ClusterLink } from './link.ts';
import type { ClientPresence } from '../../core/registry.ts';
import type { Logger } from '../../log.ts';


export interface LocalViewers {
  /** This node's viewers per stream, relay sessions excluded. */
  perStream(): Map<string, number>;
}

export type Presence = ReturnType<typeof createPresence>;

export function createPresence(link: ClusterLink, logger: Logger, tickMs = 500) {
  const { redis, nodeId } = link;
  let remote = new Map<string, number>();
  let remoteTotal = 0;
  let timer: NodeJS.Timeout | undefined;
  let source: LocalViewers | undefined;
  let nodeUrl = '';
  let failing = false;

  async function tick(): Promise<void> {
    if (source === undefined) return;
    const mine = Object.fromEntries(source.perStream());
    const ttl = tickMs * 4;
    await Promise.all([
      redis.command(['SET', clusterKeys.load(nodeId), JSON.stringify(mine), 'PX', ttl]),
      // The node key is how others find this node to relay from; it expires soon after the node dies.
      redis.command(['SET', clusterKeys.node(nodeId), nodeUrl, 'PX', ttl]),
      redis.command(['SADD', clusterKeys.nodes, nodeId]),
    ]);
    const members = await redis.command(['SMEMBERS', clusterKeys.nodes]);
    const others = (Array.isArray(members) ? members : []).filter(Buffer.isBuffer).map((b) => b.toString()).filter((n) => n !== nodeId);
    const next = new Map<string, number>();
    let total = 0;
    if (others.length > 0) {
      const loads = await redis.command(['MGET', ...others.map(clusterKeys.load)]);
      const gone: string[] = [];
      (Array.isArray(loads) ? loads : []).forEach((raw, i) => {
        if (!Buffer.isBuffer(raw)) gone.push(others[i] ?? '');
      });
      // A node whose key expired is dead (a live one adds itself back on its next tick): the set does not grow.
      if (gone.length > 0) await redis.command(['SREM', clusterKeys.nodes, ...gone]);
      for (const raw of Array.isArray(loads) ? loads : []) {
        if (!Buffer.isBuffer(raw)) continue;
        for (const [id, n] of Object.entries(JSON.parse(raw.toString('utf8')) as Record<string, number>)) {
          next.set(id, (next.get(id) ?? 0) + n);
          total += n;
        }
      }
    }
    remote = next;
    remoteTotal = total;
  }

  const presence: ClientPresence = {
    remoteCount: (streamId) => (streamId === undefined ? remoteTotal : (remote.get(streamId) ?? 0)),
  };

  return {
    presence,
    /** Registers the node at `url` (how others reach it) and keeps its counts current. */
    start(local: LocalViewers, url: string): Promise<void> {
      source = local;
      nodeUrl = url;
      const run = (): void => {
        tick().then(
          () => {
            if (failing) logger.info('cluster counts are current again');
            failing = false;
          },
          (err: unknown) => {
            // Redis down: the last known remote counts stay; said once, not every tick.
            if (!failing) logger.warn('cluster counts not refreshed', { error: String(err) });
            failing = true;
          },
        );
      };
      timer = setInterval(run, tickMs);
      timer.unref();
      return tick();
    },
    /** Reads and writes once now (tests, and the graceful stop's final zero). */
    refresh: tick,
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      source = undefined;
      await redis.command(['DEL', clusterKeys.load(nodeId), clusterKeys.node(nodeId)]).catch((err: unknown) => logger.warn('cluster counts not removed', { error: String(err) }));
    },
  };
}
