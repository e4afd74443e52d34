// A node's connection to the cluster store (SPEC §16), made before the app is built: the command client, the
// pub/sub connection, this node's id and the URL_SECRET every node shares. Start-up waits for Redis (and says so
// in the log) instead of falling back to single-node (research/scale-out.md §1.4, m3u-editor#584).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClusterConfig } from '../../config.ts';
import { RedisClient } from '../../core/redis/client.ts';
import { RedisSubscriber } from '../../core/redis/subscriber.ts';
import { parseRedisUrl, type RedisTarget } from '../../core/redis/url.ts';
import type { Logger } from '../../log.ts';
import { clusterKeys } from './keys.ts';

export type ChannelListener = (channel: string, message: Buffer) => void;

export interface ClusterLink {
  readonly config: ClusterConfig;
  /** Unique per process start: a restarted node never mistakes its predecessor's leases for its own. */
  readonly nodeId: string;
  readonly redis: RedisClient;
  /** The key every node seals playback URLs with: URL_SECRET's when configured, else the one kept in Redis. */
  readonly urlSecret: Buffer;
  /** Pub/sub on its own connection; `onReconnect` runs after the subscriber reconnected (messages may be lost). */
  listen(channel: string, handler: ChannelListener): void;
  onReconnect(handler: () => void): void;
  /** Writes the shared URL secret back if the store lost it (a restart without persistence). */
  republishSecret(): void;
  close(): Promise<void>;
}

/** Connects (waiting as long as it takes), then agrees on the URL secret. */
export async function connectCluster(config: ClusterConfig, configuredSecret: Buffer | undefined, logger: Logger): Promise<ClusterLink> {
  const target: RedisTarget = parseRedisUrl(config.redisUrl);
  const redis = new RedisClient(target, { commandTimeoutMs: Math.max(500, Math.floor(config.leaseTtlMs / 4)) });
  const say = (): void => logger.warn('waiting for the cluster store (Redis)', { host: target.host, port: target.port });
  // Said soon (a connect on a healthy network takes milliseconds), then every 5 s while it lasts.
  let waiting = setTimeout(function again() {
    say();
    waiting = setTimeout(again, 5_000);
  }, 250);
  try {
    await redis.waitReady();
  } finally {
    clearTimeout(waiting);
  }
  const urlSecret = configuredSecret ?? (await sharedUrlSecret(redis));
  const handlers = new Map<string, ChannelListener[]>();
  const reconnects: Array<() => void> = [];
  const subscriber = new RedisSubscriber(target, (channel, message) => {
    for (const h of handlers.get(channel) ?? []) h(channel, message);
  });
  subscriber.onReconnect = () => {
    // The two connections come back independently: what the handlers write needs the command connection.
    redis.waitReady().then(
      () => {
        for (const h of reconnects) h();
      },
      (err: unknown) => logger.warn('cluster store reconnected without its command connection', { error: String(err) }),
    );
  };
  const nodeId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  logger.info('cluster store connected', { node: nodeId, host: target.host, port: target.port, url_secret: configuredSecret ? 'configured' : 'shared in Redis' });
  return {
    config,
    nodeId,
    redis,
    urlSecret,
    listen(channel, handler) {
      const list = handlers.get(channel) ?? [];
      list.push(handler);
      handlers.set(channel, list);
      subscriber.subscribe(channel);
    },
    onReconnect(handler) {
      reconnects.push(handler);
    },
    republishSecret() {
      // A configured URL_SECRET stays out of the store: only the shared, generated one is kept there.
      if (configuredSecret !== undefined) return;
      redis.command(['SET', clusterKeys.urlSecret, urlSecret.toString('hex'), 'NX']).catch((err: unknown) => logger.warn('URL secret not written back', { error: String(err) }));
    },
    async close() {
      subscriber.close();
      await redis.quit();
    },
  };
}

/** The first node to start stores a random key (SET NX); every node then uses the stored one. */
async function sharedUrlSecret(redis: RedisClient): Promise<Buffer> {
  await redis.command(['SET', clusterKeys.urlSecret, randomBytes(32).toString('hex'), 'NX']);
  const stored = await redis.command(['GET', clusterKeys.urlSecret]);
  if (!Buffer.isBuffer(stored) || !/^[0-9a-f]{64}$/.test(stored.toString())) throw new Error('the cluster store holds no usable URL secret');
  return Buffer.from(stored.toString(), 'hex');
}
