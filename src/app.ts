// The composition root: builds the registry, services, routes and server from a Config; no other module wires instances.
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { VERSION, type Config } from './config.ts';
import { createEventBus, type EventBus } from './core/events.ts';
import { MemoryRegistry, type Registry } from './core/registry.ts';
import { createTokenSealer } from './core/token.ts';
import { createAgents } from './core/upstream/agents.ts';
import { createDnsCache } from './core/upstream/dns-cache.ts';
import { createUpstreamClient } from './core/upstream/client.ts';
import { createTokenChecker } from './http/auth.ts';
import { adminRoutes } from './http/routes/admin.ts';
import { metricsRoutes } from './http/routes/metrics.ts';
import { playbackHlsRoutes } from './http/routes/playback-hls.ts';
import { playbackStreamRoutes } from './http/routes/playback-stream.ts';
import { statsDetailedRoutes } from './http/routes/stats-detailed.ts';
import { streamMetadataRoutes } from './http/routes/streams-metadata.ts';
import { streamRoutes } from './http/routes/streams.ts';
import { testConnectionRoutes } from './http/routes/test-connection.ts';
import { webhookRoutes } from './http/routes/webhooks.ts';
// Operator dashboard (issue 26)
import { uiRoutes } from './http/routes/ui.ts';
import { createSseHub, type SseHub } from './http/sse.ts';
import { dashboardSnapshot } from './services/dashboard-snapshot.ts';
// Broadcasts (issue 23)
import { broadcastRoutes } from './http/routes/broadcast.ts';
import { BroadcastManager } from './services/broadcast/manager.ts';
import { broadcastProcesses } from './services/broadcast/dashboard-view.ts';
import { ChildSet } from './core/process/child-set.ts';
import { createRouter, type RequestContext, type Route } from './http/router.ts';
import { clientIp } from './http/client-identity.ts';
import { createHttpServer } from './http/server.ts';
import type { Logger } from './log.ts';
import { ConnectionTracker } from './services/upstream/connections.ts';
import { createMetrics, type MetricsService } from './services/metrics.ts';
import { createStreamService, type StreamService } from './services/streams.ts';
import { createHlsProxy } from './services/hls/proxy-hls.ts';
import { createStreamProxy } from './services/continuous/proxy-stream.ts';
import { createConnectionTester } from './services/connection-test.ts';
import { createFailoverResolver } from './services/upstream/resolver.ts';
import { createLiveShare, type LiveShare } from './services/sharing/live-share.ts';
import { createRingOpener } from './services/upstream/upstream-open.ts';
import { createUpstreamStats } from './services/upstream/upstream-stats.ts';
import { Sweeper } from './services/sweeper.ts';
import { createWebhookService, type WebhookService } from './services/events/webhooks.ts';
import { chooseUrlSecret, type StateSnapshot } from './core/state/state-file.ts';
import { parseStreamInput } from './http/validate.ts';
import { parseWebhookInput } from './http/routes/webhooks.ts';
import { createStateKeeper, type StateKeeper } from './services/state/keeper.ts';
import type { StateStore } from './services/state/store.ts';
import { createFileStateStore } from './services/state/file-store.ts';
import { NO_STATE } from './services/state/sync.ts';
import { createTranscoding, type Transcoding } from './services/transcode/transcoding.ts';
import { transcodeProcesses } from './services/transcode/dashboard-view.ts';
import type { SharingView } from './services/stats.ts';
import { transcodeRoutes } from './http/routes/transcode.ts';
// Several nodes sharing one Redis (issue 25, SPEC §16)
import { internalRelayRoutes } from './http/routes/internal-relay.ts';
import { clusterRoutes } from './http/routes/cluster.ts';
import { createClusterMode } from './services/cluster/cluster-mode.ts';
import type { ClusterLink } from './services/cluster/link.ts';

export interface AppOptions {
  logger: Logger;
  /** Injected clock for the registry (tests). */
  now?: () => number;
  /** Webhook retry back-off base and queue bound (tests shrink them). */
  webhookRetryBaseMs?: number;
  webhookMaxQueue?: number;
  /** Durable state (SPEC §12): the store and what it held at start-up; absent: memory only. */
  state?: { store: StateStore; loaded: StateSnapshot | undefined };
  /** Failover resolver deadline (tests shrink it). */
  resolverTimeoutMs?: number;
  /** Waits before retrying a refused broadcast callback (tests shrink them). */
  broadcastCallbackBackoffMs?: readonly number[];
  /** Back-off before restart n of a transcode that died with viewers (tests shrink it). */
  transcodeRestartDelayMs?: (n: number) => number;
  /** SPEC §16: this node's connection to the cluster store; absent, one node in-process (the default). */
  cluster?: ClusterLink;
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
  /** Durable state, or undefined when memory only. */
  readonly state: StateKeeper | undefined;
  /** SPEC §5.5: the shared live upstreams. */
  readonly share: LiveShare;
  /** The dashboard's live feed (GET /ui/events): its subscribers and shared timer. */
  readonly dashboardEvents: SseHub;
  /** SPEC §14: the running broadcasts. */
  readonly broadcasts: BroadcastManager;
  /** SPEC §13: transcode streams and their processes. */
  readonly transcoding: Transcoding;
  /** Writes the state once (a StateError when it cannot be written), then listens and resolves the bound port. */
  listen(port?: number, host?: string): Promise<number>;
  /** Graceful stop (SPEC §8): refuse new requests, let short ones finish, end streams, release everything. */
  close(graceMs?: number): Promise<void>;
}

/** The durable state STATE_FILE names, read once at start-up; undefined when memory only. StateError when unusable. */
export async function loadState(config: Config): Promise<AppOptions['state']> {
  if (config.stateFile === undefined) return undefined;
  const store = createFileStateStore(config.stateFile);
  return { store, loaded: await store.load() };
}

export function createApp(baseConfig: Config, options: AppOptions): App {
  const { logger } = options;
  // URL_SECRET: configured, else kept in the state file, else generated now and kept from now on (SPEC §2, §12).
  // Without a state file the configured or random key is used as it is, made at its first use.
  const secret =
    options.state === undefined ? undefined : chooseUrlSecret({ key: baseConfig.urlSecret, random: baseConfig.urlSecretRandom }, options.state.loaded?.urlSecret);
  const config: Config =
    secret === undefined || secret.source === 'configured' ? baseConfig : Object.freeze({ ...baseConfig, urlSecret: secret.key, urlSecretRandom: false });
  const cluster = options.cluster === undefined ? undefined : createClusterMode(options.cluster, logger);
  const registry = new MemoryRegistry(options.now, { perStream: config.maxClientsPerStream, total: config.maxClients }, cluster?.presence);
  const startedAt = registry.now();
  const bus = createEventBus({ onListenerError: (err) => logger.error('event listener failed', { error: String(err) }) });
  const connections = new ConnectionTracker();
  const keeper =
    options.state === undefined
      ? undefined
      : createStateKeeper({ store: options.state.store, registry, webhookTargets: () => webhooks.targets(), urlSecret: secret?.keep, logger });
  const state = keeper ?? NO_STATE;
  const resolver = createFailoverResolver({ logger, timeoutMs: options.resolverTimeoutMs });
  const streams = createStreamService({
    registry,
    bus,
    connections,
    logger,
    defaultUserAgent: config.defaultUserAgent,
    shareLiveUpstream: config.shareLiveUpstream,
    resolver,
    state,
    directory: cluster?.directory,
  });
  const auth = createTokenChecker(config.apiToken);
  // Upstream pools and client: shared by every upstream request (continuous, VOD, HLS).
  const agents = createAgents({ dns: config.dnsCacheTtlMs > 0 ? createDnsCache({ ttlMs: config.dnsCacheTtlMs }) : undefined });
  const upstreamClient = createUpstreamClient(agents);
  const upstreamStats = createUpstreamStats({ sockets: agents.snapshot, totalBytes: () => registry.totalBytesServed, now: registry.now });
  const share = createLiveShare({
    registry,
    streams,
    connections,
    logger,
    stats: upstreamStats,
    readTimeoutMs: config.readTimeoutMs,
    maxRetries: config.maxRetries,
    maxQueueBytes: config.shareQueueBytes,
  });
  const relayFrom = cluster?.relayClient({ registry, streams, connections, connectTimeoutMs: config.connectTimeoutMs });
  const streamProxy = createStreamProxy({
    config,
    registry,
    streams,
    connections,
    logger,
    upstream: upstreamClient,
    stats: upstreamStats,
    share,
    cluster: cluster && relayFrom ? { ownership: cluster.ownership, relay: relayFrom, position: (id: string) => cluster.directory.position(id) } : undefined,
  });
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
    publicUrl: config.publicUrl,
    segmentCacheBytes: config.hlsSegmentCacheBytes,
  });
  const webhooks = createWebhookService({
    bus,
    logger,
    version: VERSION,
    secret: config.webhookSecret,
    retryBaseMs: options.webhookRetryBaseMs,
    maxQueue: options.webhookMaxQueue ?? config.webhookQueueSize,
    state,
  });
  const loaded = options.state?.loaded;
  if (keeper !== undefined && loaded !== undefined) {
    // Before any request: the streams are back with no clients, and no stream_started is emitted for them.
    const restored = keeper.restore(loaded, {
      parseStream: parseStreamInput,
      restoreStream: (id, input, saved) => streams.restore(id, input, saved),
      parseWebhook: parseWebhookInput,
      addWebhook: (target) => void webhooks.add(target),
    });
    logger.info('state restored', { state: keeper.where, ...restored });
  }
  const sweeper = new Sweeper({
    registry,
    streams,
    logger,
    clientTimeoutMs: config.clientTimeoutMs,
    streamTimeoutMs: config.streamTimeoutMs,
    intervalMs: config.cleanupIntervalMs,
    alsoSweep: () => sweepBroadcastDirs(),
  });
  const metrics = createMetrics({
    registry,
    bus,
    version: VERSION,
    startedAt,
    connectionCount: () => connections.count(),
    upstream: upstreamStats,
    webhooks,
    state: keeper,
    sharing: share,
    logDropped: () => logger.droppedWrites?.() ?? 0,
    transcodeProcesses: () => transcoding.engine.processCount(),
  });
  // Every FFmpeg the app runs, stopped at close (SPEC §13, §14).
  const children = new ChildSet();
  // Abandoned broadcast directories go at start-up and on the sweeper's timer; a failure is only logged.
  const sweepBroadcastDirs = (): void => {
    broadcasts.sweepDirs().catch((error: unknown) => logger.warn('broadcast directory clean-up failed', { error: String(error) }));
  };
  const broadcasts = new BroadcastManager({
    ffmpegPath: config.ffmpegPath,
    ffprobePath: config.ffprobePath,
    broadcastDir: config.broadcastDir,
    dvrDir: config.dvrDir,
    allowedDirs: config.broadcastAllowedDirs,
    startGraceMs: config.broadcastStartGraceMs,
    callbackTimeoutMs: config.broadcastCallbackTimeoutMs,
    apiToken: config.apiToken,
    startRetries: { max: config.broadcastMaxStartRetries, windowMs: config.broadcastStartRetryWindowMs, cooldownMs: config.broadcastStartRetryCooldownMs },
    gcAgeMs: config.broadcastGcAgeMs,
    callbackBackoffMs: options.broadcastCallbackBackoffMs,
    children,
    logger,
  });
  const transcoding = createTranscoding({ config, registry, streams, connections, logger, bus, children, restartDelayMs: options.transcodeRestartDelayMs });
  const dashboardEvents = createSseHub({
    payload: () => dashboardSnapshot(registry, sharing, [broadcastProcesses(broadcasts), transcodeProcesses(transcoding.engine, registry)]),
    intervalMs: 1_000,
    onError: (err) => logger.error('dashboard snapshot failed', { error: String(err) }),
  });
  let shuttingDown = false;

  // Transcode processes count as their streams' upstream connections and viewers (SPEC §13 on top of §5.5).
  const sharing: SharingView = {
    upstreamCount: (id) => share.upstreamCount(id) + transcoding.engine.upstreamCount(id),
    viewers: (id) => share.viewers(id) + transcoding.engine.viewers(id),
    viewerOf: (c) => share.viewerOf(c),
    outputMediaInfo: (id) => transcoding.engine.mediaInfo(id),
  };
  const clusterLookup = cluster?.lookup(streams);
  const sharedWebhooks = cluster?.webhooks(webhooks);
  const hlsGate = cluster?.hlsGate(registry, config.connectTimeoutMs);
  const atOwner =
    cluster === undefined
      ? undefined
      : (ctx: RequestContext) =>
          cluster.forwardToOwner({
            req: ctx.req,
            res: ctx.res,
            streamId: ctx.params['id'] ?? '',
            pathAndQuery: `${ctx.path}${ctx.query.size > 0 ? `?${ctx.query}` : ''}`,
            clientIp: clientIp(ctx.req, config.trustProxy),
            keep: ['x-api-token', 'content-type', 'user-agent'],
          });
  const kickElsewhere = cluster === undefined ? undefined : (id: string, clientId: string) => cluster.kickElsewhere(id, clientId);
  const routeDeps = { config, registry, streams, connections, logger, auth, startedAt, sharing, transcodeInfo: transcoding.service.info, clusterLookup, hlsGate, atOwner, kickElsewhere };
  const routes: Route[] = [
    ...adminRoutes(routeDeps),
    // Literal /streams/... paths before /streams/:id.
    ...streamMetadataRoutes(routeDeps),
    ...streamRoutes(routeDeps),
    ...testConnectionRoutes(
      createConnectionTester({ upstream: upstreamClient, userAgent: config.defaultUserAgent, connectTimeoutMs: config.connectTimeoutMs, readTimeoutMs: config.readTimeoutMs }),
    ),
    ...transcodeRoutes(transcoding.service),
    ...metricsRoutes(metrics),
    ...playbackStreamRoutes(routeDeps, streamProxy, transcoding),
    ...playbackHlsRoutes(routeDeps, hlsProxy, transcoding),
    ...statsDetailedRoutes(routeDeps, upstreamStats, share),
    ...webhookRoutes(sharedWebhooks?.service ?? webhooks),
    ...uiRoutes(dashboardEvents), // operator dashboard (issue 26)
    ...broadcastRoutes(broadcasts, { broadcastDir: config.broadcastDir, allowedDirs: config.broadcastAllowedDirs }),
    ...(cluster && clusterLookup && config.cluster ? internalRelayRoutes({ secret: config.cluster.secret, lookup: clusterLookup, proxy: streamProxy }) : []),
    ...(cluster ? clusterRoutes(cluster.link) : []),
  ];
  const router = createRouter(routes);
  const server = createHttpServer({
    router,
    auth,
    rootPath: config.rootPath,
    corsOrigins: config.corsOrigins,
    allowedHosts: config.allowedHosts,
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
    state: keeper,
    share,
    dashboardEvents,
    broadcasts,
    transcoding,
    async listen(port = config.port, host = config.host) {
      // SPEC §12: an unwritable state file stops start-up now, not at the first change; this also saves a generated URL_SECRET.
      await keeper?.saveNow();
      if (cluster) logger.info('cluster definitions loaded', { streams: await cluster.load(streams, registry) });
      await sharedWebhooks?.load();
      metrics.start();
      sweeper.start();
      sweepBroadcastDirs();
      const bound = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
      // SPEC §16: reachable by the other nodes from now on.
      await cluster?.register(registry, config.cluster?.nodeUrl ?? `http://${nodeHost(host)}:${bound}${config.rootPath}`);
      return bound;
    },
    async close(graceMs = 10_000) {
      if (shuttingDown) return;
      shuttingDown = true;
      sweeper.stop();
      // Event streams never finish by themselves either.
      dashboardEvents.close();
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
      // No transcode process outlives the proxy (SPEC §13).
      const stopped = transcoding.close();
      await Promise.race([closed, grace]);
      clearInterval(idleSweep);
      server.closeAllConnections();
      await closed;
      await stopped;
      // Events of the connections just ended are queued by now: give webhooks a short, bounded flush.
      await webhooks.close(Math.min(2_000, graceMs));
      // Changes made without a waiting request (automatic failovers, the sweeper) reach the disk before exit.
      await state.saved().catch((err: unknown) => logger.error('state not saved at shutdown', { error: String(err) }));
      agents.destroy();
      metrics.stop();
      // No FFmpeg outlives the proxy: broadcasts stop quietly (no callbacks), then whatever else is still running.
      await broadcasts.close();
      await children.stopAll();
      await cluster?.close();
    },
  };
}

/** CLUSTER_NODE_URL's default host: the bound address, or this machine's name when bound to every address. */
function nodeHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return hostname();
  return host.includes(':') ? `[${host}]` : host;
}
