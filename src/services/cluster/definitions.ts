// Stream definitions shared through Redis (SPEC §16): a create or delete on any node is written to Redis and
// published, and every node applies it to its own registry, so a stream created on node A plays on node B. Each
// message carries the definition itself (no read-back), and a node that misses a message (pub/sub is
// at-most-once) re-reads everything when its subscriber reconnects; a player asking for an unknown id is looked
// up in Redis too (`fetch`).
import type { StreamInput } from '../../core/registry.ts';
import type { Logger } from '../../log.ts';
import { clusterKeys } from './keys.ts';
import type { ClusterLink } from './link.ts';
import { createWriteTracker } from './write-tracker.ts';

interface Change {
  op: 'put' | 'del';
  id: string;
  input?: StreamInput;
  from: string;
}

/** What a node does with a change made elsewhere. */
export interface DefinitionSink {
  apply(id: string, input: StreamInput): void;
  remove(id: string): void;
}

export type SharedDefinitions = ReturnType<typeof createSharedDefinitions>;

export function createSharedDefinitions(link: ClusterLink, logger: Logger) {
  const { redis, nodeId } = link;
  const { track, flushed } = createWriteTracker(logger);

  function parse(raw: unknown): StreamInput | undefined {
    if (!Buffer.isBuffer(raw)) return undefined;
    try {
      return JSON.parse(raw.toString('utf8')) as StreamInput;
    } catch (err) {
      logger.warn('unreadable stream definition in the cluster store', { error: String(err) });
      return undefined;
    }
  }

  async function all(): Promise<Array<[string, StreamInput]>> {
    const ids = await redis.command(['SMEMBERS', clusterKeys.streams]);
    if (!Array.isArray(ids) || ids.length === 0) return [];
    const names = ids.filter(Buffer.isBuffer).map((b) => b.toString());
    const values = await redis.command(['MGET', ...names.map(clusterKeys.stream)]);
    const out: Array<[string, StreamInput]> = [];
    names.forEach((id, i) => {
      const input = Array.isArray(values) ? parse(values[i]) : undefined;
      if (input !== undefined) out.push([id, input]);
    });
    return out;
  }

  return {
    /** A local create or update: stored and announced. */
    published(id: string, input: StreamInput): void {
      const json = JSON.stringify(input);
      const change: Change = { op: 'put', id, input, from: nodeId };
      track(Promise.all([redis.command(['SET', clusterKeys.stream(id), json]), redis.command(['SADD', clusterKeys.streams, id])]).then(() =>
        redis.command(['PUBLISH', clusterKeys.registryChannel, JSON.stringify(change)]),
      ));
    },

    /** A local delete: removed and announced. */
    removed(id: string): void {
      const change: Change = { op: 'del', id, from: nodeId };
      track(Promise.all([redis.command(['DEL', clusterKeys.stream(id), clusterKeys.position(id)]), redis.command(['SREM', clusterKeys.streams, id])]).then(() =>
        redis.command(['PUBLISH', clusterKeys.registryChannel, JSON.stringify(change)]),
      ));
    },

    /**
     * After a reconnect: definitions this node knows are written back where missing (SET NX), so a Redis restarted
     * without persistence gets them again; the commands go out before any read issued after this call.
     */
    republish(entries: Iterable<[string, StreamInput]>): void {
      for (const [id, input] of entries) {
        track(Promise.all([redis.command(['SET', clusterKeys.stream(id), JSON.stringify(input), 'NX']), redis.command(['SADD', clusterKeys.streams, id])]));
      }
    },

    /** A failover moved the stream: the node that owns it next starts there. */
    moved(id: string, index: number): void {
      track(redis.command(['SET', clusterKeys.position(id), index]));
    },

    /** The URL position the stream's last owner left it at, if any. */
    async position(id: string): Promise<number | undefined> {
      const raw = await redis.command(['GET', clusterKeys.position(id)]);
      const n = Buffer.isBuffer(raw) ? Number(raw.toString()) : NaN;
      return Number.isInteger(n) && n >= 0 ? n : undefined;
    },

    /** Resolves when every write so far reached Redis; rejects when one failed. */
    flushed,

    async fetch(id: string): Promise<StreamInput | undefined> {
      return parse(await redis.command(['GET', clusterKeys.stream(id)]));
    },

    all,

    /** Applies other nodes' changes as they come, and everything again after a reconnect. */
    follow(sink: DefinitionSink): void {
      link.listen(clusterKeys.registryChannel, (_channel, message) => {
        let change: Change;
        try {
          change = JSON.parse(message.toString('utf8')) as Change;
        } catch (err) {
          logger.warn('unreadable cluster registry message', { error: String(err) });
          return;
        }
        if (change.from === nodeId) return;
        if (change.op === 'put' && change.input !== undefined) sink.apply(change.id, change.input);
        else if (change.op === 'del') sink.remove(change.id);
      });
      const reload = (): void => {
        all().then(
          (list) => {
            for (const [id, input] of list) sink.apply(id, input);
          },
          (err: unknown) => logger.warn('cluster definitions not reloaded', { error: String(err) }),
        );
      };
      link.onReconnect(reload);
    },
  };
}
