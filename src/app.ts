// The composition root: builds the registry, services, routes and server from a Config; no other module wires instances.
import type { Server } from 'node:http';
import { VERSION, type Config } from './config.ts';
import { createEventBus, type EventBus } from './core/events.ts';
import { MemoryRegistry, type Registry } from './core/registry.ts';
import { createTokenSealer } from './core/token.ts';
import { createAgents } from './core/upstream/agents.ts';
import { createUpstreamClient } from './core/upstream/client.ts';
import { createTokenChecker } from './http/auth.ts';
import { adminRoutes } from './http/routes/admin.ts';
import { metricsRoutes } from './http/routes/metrics.ts';
import { playbackHlsRoutes } from './http/routes/playback-hls.ts';
import { playbackStreamRoutes } from './http/routes/playback-stream.ts';
import { statsDetailedRoutes } from './http/routes/stats-detailed.ts';
import { streamRoutes } from './http/routes/streams.ts';
import { webhookRoutes } from './http/routes/webhooks.ts';
import { createRouter, type Route } from './http/router.ts';
import { createHttpServer } from './http/server.ts';
import type { Logger } from './log.ts';
import { ConnectionTracker } from './services/upstream/connections.ts';
import { createMetrics, type MetricsService } from './services/metrics.ts';
import { createStreamService, type StreamService } from './services/streams.ts';
import { createHlsProxy } from './services/hls/proxy-hls.ts';
import { createStreamProxy } from './services/continuous/proxy-stream.ts';
import { createLiveShare, type LiveShare } from './services/sharing/live-share.ts';
import { createRingOpener } from './services/upstream/upstream-open.ts';
import { createUpstreamStats } from './services/upstream/upstream-stats.ts';
import { Sweeper } from './services/sweeper.ts';
import { createWebhookService, type WebhookService } from './services/events/webhooks.ts';

export interface AppOptions {
  logger: Logger;
  /** Injected clock for the registry (tests). */
  now?: () => number;
  /** Webhook retry back-off base and queue bound (tests shrink them). */
  webhookRetryBaseMs?: number;
  webhookMaxQueue?: number;
}

export interface App {
  readonly server: Server;
  readonly config: Config;
  readonly registry: Registry;
  readonly bus: EventBus;
  readonly streams: StreamService;
  readonly connections: ConnectionTracker;
  readonly metrics: MetricsService;
  readonly webhooks: WebhookService;
  readonly sweeper: Sweeper;
  /** SPEC §5.5: the shared live upstreams. */
  readonly share: LiveShare;
  /** Listens and resolves the bound port. */
  listen(port?: number, host?: string): Promise<number>;
  /** Graceful stop (SPEC §8): refuse new requests, let short ones finish, end streams, release everything. */
  close(graceMs?: number): Promise<void>;
}

export function createApp(config: Config, options: AppOptions): App {
  const { logger } = options;
  const registry = new MemoryRegistry(options.now);
  const startedAt = registry.now();
  const bus = createEventBus({ onListenerError: (err) => logger.error('event listener failed', { error: String(err) }) });
  const connections = new ConnectionTracker();
  const streams = createStreamService({ registry, bus, connections, logger, defaultUserAgent: config.defaultUserAgent, shareLiveUpstream: config.shareLiveUpstream });
  const auth = createTokenChecker(config.apiToken);
  // Upstream pools and client: shared by every upstream request (continuous, VOD, HLS).
  const agents = createAgents();
  const upstreamClient = createUpstreamClient(agents);
  const upstreamStats = createUpstreamStats({ sockets: agents.snapshot, totalBytes: () => registry.totalBytesServed, now: registry.now });
  const share = createLiveShare({
    registry,
    streams,
    connections,
    logger,
    stats: upstreamStats,
    readTimeoutMs: config.readTimeoutMs,
    maxQueueBytes: config.shareQueueBytes,
  });
  const streamProxy = createStreamProxy({ config, registry, streams, connections, logger, upstream: upstreamClient, stats: upstreamStats, share });
  const hlsProxy = createHlsProxy({
    config,
    registry,
    streams,
    connections,
    logger,
    stats: upstreamStats,
    streamProxy,
    openFromRing: createRingOpener({ upstream: upstreamClient, streams, stats: upstreamStats, logger, connectTimeoutMs: config.connectTimeoutMs }),
    // No seal memo: the HLS rewrite memo remembers whole proxy URIs per playlist, so a second one would only cost.
    tokens: createTokenSealer(config.urlSecret, { sealCacheSize: 0 }),
    urlBase: config.publicUrl ?? config.rootPath,
  });
  const webhooks = createWebhookService({
    bus,
    logger,
    version: VERSION,
    secret: config.webhookSecret,
    retryBaseMs: options.webhookRetryBaseMs,
    maxQueue: options.webhookMaxQueue,
  });
  const sweeper = new Sweeper({
    registry,
    streams,
    logger,
    clientTimeoutMs: config.clientTimeoutMs,
    streamTimeoutMs: config.streamTimeoutMs,
    intervalMs: config.cleanupIntervalMs,
  });
  const metrics = createMetrics({ registry, bus, version: VERSION, startedAt, connectionCount: () => connections.count(), upstream: upstreamStats, webhooks, sharing: share });
  let shuttingDown = false;

  const routeDeps = { config, registry, streams, connections, logger, auth, startedAt, sharing: share };
  const routes: Route[] = [
    ...adminRoutes(routeDeps),
    ...streamRoutes(routeDeps),
    ...metricsRoutes(metrics),
    ...playbackStreamRoutes(routeDeps, streamProxy),
    ...playbackHlsRoutes(routeDeps, hlsProxy),
    ...statsDetailedRoutes(routeDeps, upstreamStats, share),
    ...webhookRoutes(webhooks),
  ];
  const router = createRouter(routes);
  const server = createHttpServer({
    router,
    auth,
    rootPath: config.rootPath,
    logger,
    isShuttingDown: () => shuttingDown,
    onRequestDone: metrics.observeRequest,
  });

  return {
    server,
    config,
    registry,
    bus,
    streams,
    connections,
    metrics,
    webhooks,
    sweeper,
    share,
    listen(port = config.port, host = config.host) {
      metrics.start();
      sweeper.start();
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    async close(graceMs = 10_000) {
      if (shuttingDown) return;
      shuttingDown = true;
      sweeper.stop();
      // Stop accepting: the listener closes now; requests on kept-alive sockets get 503 (isShuttingDown).
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Continuous streams never finish by themselves: end them now. Playlists and segments in flight get the grace period.
      for (const stream of [...registry.streams()]) {
        for (const conn of connections.ofStream(stream.id)) if (conn.client.kind === 'continuous') conn.abort('shutdown');
      }
      server.closeIdleConnections();
      // A response finishing during the grace period leaves an idle keep-alive socket: close those as they appear.
      const idleSweep = setInterval(() => server.closeIdleConnections(), 100).unref();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([closed, grace]);
      clearInterval(idleSweep);
      server.closeAllConnections();
      await closed;
      // Events of the connections just ended are queued by now: give webhooks a short, bounded flush.
      await webhooks.close(Math.min(2_000, graceMs));
      agents.destroy();
      metrics.stop();
    },
  };
}
