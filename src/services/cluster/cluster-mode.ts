// Cluster mode's parts, put together for the composition root (SPEC §16): shared definitions, presence counts,
// channel leases and the relay client, over one ClusterLink. Absent (CLUSTER_REDIS_URL unset), the app is one node.
import type { Registry, StreamInput, StreamRecord } from '../../core/registry.ts';
import { RedisError } from '../../core/redis/errors.ts';
import { ClusterUnavailableError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { StreamService } from '../streams.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import { createSharedDefinitions } from './definitions.ts';
import type { ClusterLink } from './link.ts';
import { clusterKeys } from './keys.ts';
import { createOwnership } from './ownership.ts';
import { createPresence } from './presence.ts';
import { createRelayClient, type RelayClient } from './relay-client.ts';
import { createHlsGate, type HlsGate } from './hls-gate.ts';
import { shareWebhooks } from './shared-webhooks.ts';
import { forwardRequest, type Forward } from './forward.ts';
import { carriesClusterSecret } from './secret.ts';
import type { WebhookService } from '../events/webhooks.ts';

export type ClusterMode = ReturnType<typeof createClusterMode>;

export function createClusterMode(link: ClusterLink, logger: Logger) {
  const presence = createPresence(link, logger);
  const definitions = createSharedDefinitions(link, logger);
  const owners = createOwnership(link, logger);
  let hls: HlsGate | undefined;

  return {
    link,
    presence: presence.presence,
    directory: definitions,
    ownership: owners.ownership,
    relayClient(deps: { registry: Registry; streams: StreamService; connections: ConnectionTracker; connectTimeoutMs: number }): RelayClient {
      return createRelayClient({ ...deps, logger, secret: link.config.secret, nodeId: link.nodeId, timeoutMs: Math.min(deps.connectTimeoutMs, 2_000) });
    },

    /**
     * SPEC §16: a management call that must act where the stream plays (manual failover, kick) is passed to the
     * node holding the stream's lease (continuous, else HLS) when that is another node; true when it was.
     */
    async forwardToOwner(f: Omit<Forward, 'url' | 'secret' | 'timeoutMs'> & { streamId: string; pathAndQuery: string }): Promise<boolean> {
      if (carriesClusterSecret(f.req.headers, link.config.secret)) return false;
      const url = (await owners.ownership.ownerUrl(f.streamId)) ?? (await owners.ownership.ownerUrl(`hls:${f.streamId}`));
      if (url === undefined) return false;
      return forwardRequest({ ...f, url: `${url}${f.pathAndQuery}`, secret: link.config.secret, timeoutMs: 5_000 });
    },

    /** SPEC §16: webhooks registered on any node are registered on every node. */
    webhooks(local: WebhookService): ReturnType<typeof shareWebhooks> {
      return shareWebhooks(link, local, logger);
    },

    /** SPEC §16: the HLS requests of a stream go to the node holding its HLS lease. */
    hlsGate(registry: Registry, connectTimeoutMs: number): HlsGate {
      hls = createHlsGate({ ownership: owners.ownership, registry, logger, secret: link.config.secret, timeoutMs: connectTimeoutMs });
      return hls;
    },

    /** A stream here, or its definition from the cluster store (created elsewhere a moment ago). */
    lookup(streams: StreamService): (id: string) => Promise<StreamRecord | undefined> {
      return async (id) => {
        const here = streams.find(id);
        if (here !== undefined) return here;
        let input;
        try {
          input = await definitions.fetch(id);
        } catch (err) {
          if (err instanceof RedisError) throw new ClusterUnavailableError();
          throw err;
        }
        return input === undefined ? undefined : (streams.find(id) ?? streams.applyShared(id, input));
      };
    },

    /** SPEC §16: a kick for a client this node does not have goes to every node; the one that has it acts. */
    kickElsewhere(streamId: string, clientId: string): void {
      const command = JSON.stringify({ op: 'kick', stream: streamId, client: clientId, from: link.nodeId });
      link.redis.command(['PUBLISH', clusterKeys.commandChannel, command]).catch((err: unknown) => logger.warn('kick not sent to the other nodes', { error: String(err) }));
    },

    /** Before listening: every definition in the store is here, and later changes follow. */
    async load(streams: StreamService, registry: Registry): Promise<number> {
      link.listen(clusterKeys.commandChannel, (_channel, message) => {
        let c: { op?: string; stream?: string; client?: string; from?: string };
        try {
          c = JSON.parse(message.toString('utf8')) as typeof c;
        } catch (err) {
          logger.warn('unreadable cluster command', { error: String(err) });
          return;
        }
        if (c.op !== 'kick' || c.from === link.nodeId || c.stream === undefined || c.client === undefined) return;
        if (registry.findClient(c.stream, c.client).length > 0) streams.kickClient(c.stream, c.client);
      });
      // Before follow(): its reload after a reconnect then reads what this node wrote back.
      link.onReconnect(() => {
        definitions.republish([...registry.streams()].map((s) => [s.id, inputOf(s)]));
        link.republishSecret();
      });
      definitions.follow({ apply: (id, input) => streams.applyShared(id, input), remove: (id) => streams.removeShared(id) });
      const all = await definitions.all();
      for (const [id, input] of all) streams.applyShared(id, input);
      return all.length;
    },

    /** After listening: the node is registered at `url` and publishes its viewer counts. */
    register(registry: Registry, url: string): Promise<void> {
      return presence.start(
        {
          perStream() {
            const counts = new Map<string, number>();
            for (const c of registry.clients()) if (c.relay !== true) counts.set(c.streamId, (counts.get(c.streamId) ?? 0) + 1);
            return counts;
          },
        },
        url,
      );
    },

    /** Graceful stop: leases released, counts and node key removed, connections closed. */
    async close(): Promise<void> {
      hls?.close();
      await owners.releaseAll();
      await presence.stop();
      await link.close();
    },
  };
}

/** The definition of a stream as it was created (what POST /streams gave), for writing it back. */
function inputOf(s: StreamRecord): StreamInput {
  return {
    url: s.url,
    failoverUrls: s.failoverUrls,
    userAgent: s.userAgent,
    headers: s.headers,
    metadata: s.metadata,
    kind: s.kind,
    resolverUrl: s.resolverUrl,
    strictLiveTs: s.strictLiveTs,
    useStickySession: s.useStickySession,
    shareUpstream: s.shareUpstream,
    silence: s.silence,
  };
}
