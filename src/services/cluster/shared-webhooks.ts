// Webhooks shared through Redis (SPEC §16): one registered on any node is registered on every node, since each
// node delivers the events it emits itself. The same pattern as the stream definitions (definitions.ts): a hash
// `m3up:webhooks` (url -> JSON target), a change message carrying the target, a reload and write-back after a
// reconnect. The service the routes get is the node's own, with add/remove shared and saved() awaiting Redis.
import type { Logger } from '../../log.ts';
import type { WebhookTarget } from '../events/webhook-queue.ts';
import type { WebhookService } from '../events/webhooks.ts';
import { clusterKeys } from './keys.ts';
import type { ClusterLink } from './link.ts';
import { createWriteTracker } from './write-tracker.ts';

interface Change {
  op: 'put' | 'del';
  url: string;
  target?: WebhookTarget;
  from: string;
}

/** Shares `local`'s adds and removes; call load() before serving. */
export function shareWebhooks(link: ClusterLink, local: WebhookService, logger: Logger) {
  const { redis, nodeId } = link;
  const { track, flushed } = createWriteTracker(logger);
  /** True while a change from another node is applied: not shared back. */
  let applying = false;

  const apply = (fn: () => void): void => {
    applying = true;
    try {
      fn();
    } finally {
      applying = false;
    }
  };
  const announce = (change: Change): Promise<unknown> => redis.command(['PUBLISH', clusterKeys.webhooksChannel, JSON.stringify(change)]);

  async function reload(): Promise<void> {
    const all = await redis.command(['HGETALL', clusterKeys.webhooks]);
    const flat = Array.isArray(all) ? all.filter(Buffer.isBuffer).map((b) => b.toString('utf8')) : [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      try {
        const target = JSON.parse(flat[i + 1] ?? '') as WebhookTarget;
        apply(() => local.add(target));
      } catch (err) {
        logger.warn('unreadable webhook in the cluster store', { error: String(err) });
      }
    }
  }

  const service: WebhookService = {
    ...local,
    add(target) {
      const result = local.add(target);
      if (!applying) track(redis.command(['HSET', clusterKeys.webhooks, target.url, JSON.stringify(target)]).then(() => announce({ op: 'put', url: target.url, target, from: nodeId })));
      return result;
    },
    remove(url) {
      const removed = local.remove(url);
      if (removed && !applying) track(redis.command(['HDEL', clusterKeys.webhooks, url]).then(() => announce({ op: 'del', url, from: nodeId })));
      return removed;
    },
    saved: () => Promise.all([local.saved(), flushed()]).then(() => undefined),
  };

  return {
    service,
    /** Before serving: every shared webhook is here, later changes follow, a reconnect writes back and re-reads. */
    async load(): Promise<void> {
      link.listen(clusterKeys.webhooksChannel, (_channel, message) => {
        let change: Change;
        try {
          change = JSON.parse(message.toString('utf8')) as Change;
        } catch (err) {
          logger.warn('unreadable cluster webhook message', { error: String(err) });
          return;
        }
        if (change.from === nodeId) return;
        const target = change.target;
        if (change.op === 'put' && target !== undefined) apply(() => local.add(target));
        else if (change.op === 'del') apply(() => void local.remove(change.url));
      });
      link.onReconnect(() => {
        for (const t of local.targets()) track(redis.command(['HSETNX', clusterKeys.webhooks, t.url, JSON.stringify(t)]));
        reload().catch((err: unknown) => logger.warn('cluster webhooks not reloaded', { error: String(err) }));
      });
      // Webhooks this node had before (its state file) are shared too.
      for (const t of local.targets()) track(redis.command(['HSETNX', clusterKeys.webhooks, t.url, JSON.stringify(t)]));
      await reload();
    },
  };
}
