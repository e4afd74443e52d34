// Writes to the cluster store that a route must see acknowledged before it answers 2xx (as a state file write):
// tracked until they settle; `flushed()` rejects with CLUSTER_UNAVAILABLE when one could not reach Redis.
import { RedisError } from '../../core/redis/errors.ts';
import { ClusterUnavailableError } from '../../errors.ts';
import type { Logger } from '../../log.ts';

export function createWriteTracker(logger: Logger) {
  const inFlight = new Set<Promise<unknown>>();
  return {
    track(p: Promise<unknown>): void {
      const tracked = p.catch((err: unknown) => {
        logger.error('cluster store write failed', { error: String(err) });
        throw err instanceof RedisError ? new ClusterUnavailableError('The cluster store (Redis) is unreachable: the change was not shared') : err;
      });
      inFlight.add(tracked);
      void tracked.finally(() => inFlight.delete(tracked)).catch(() => {
        // Reported above and to the route that awaits flushed(); nothing more to do here.
      });
    },
    /** Resolves when every write so far reached Redis; rejects when one failed. */
    async flushed(): Promise<void> {
      await Promise.all([...inFlight]);
    },
  };
}
