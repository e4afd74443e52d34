// Health, info and stats endpoints (SPEC §7): read-only views over the registry.
import { VERSION } from '../../config.ts';
import { NotFoundError } from '../../errors.ts';
import { allClientStats, allStreamStats, proxyStats, toClientStat } from '../../services/stats.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../router.ts';
import type { RouteDeps } from './deps.ts';

export function adminRoutes(deps: RouteDeps): Route[] {
  const { registry, config, startedAt } = deps;
  const stats = () => proxyStats(registry, startedAt);
  const clientsBody = () => {
    const clients = allClientStats(registry, deps.sharing);
    return { total_clients: clients.length, clients };
  };

  return [
    {
      method: 'GET',
      path: '/livez',
      auth: false,
      handler({ res }) {
        sendJson(res, 200, { status: 'ok' });
      },
    },
    {
      method: 'GET',
      path: '/',
      auth: true,
      handler({ res }) {
        const s = stats();
        sendJson(res, 200, { status: 'running', message: 'm3u-proxy is running', version: VERSION, uptime: s.uptime_seconds, stats: s });
      },
    },
    {
      method: 'GET',
      path: '/health',
      auth: true,
      handler({ res }) {
        const s = stats();
        sendJson(res, 200, {
          status: 'healthy',
          version: VERSION,
          uptime_seconds: s.uptime_seconds,
          active_streams: s.active_streams,
          active_clients: s.active_clients,
          total_bytes_served: s.total_bytes_served,
          stats: s,
        });
      },
    },
    {
      method: 'GET',
      path: '/info',
      auth: true,
      handler({ res }) {
        sendJson(res, 200, {
          name: 'm3u-proxy',
          version: VERSION,
          node_version: process.version,
          configuration: {
            host: config.host,
            port: config.port,
            root_path: config.rootPath,
            public_url: config.publicUrl ?? null,
            log_level: config.logLevel,
            log_format: config.logFormat,
            api_token: config.apiToken ? '***' : null,
            url_secret: config.urlSecretRandom ? 'random per start' : '***',
            webhook_secret: config.webhookSecret ? '***' : null,
            client_timeout: config.clientTimeoutMs / 1000,
            stream_timeout: config.streamTimeoutMs / 1000,
            cleanup_interval: config.cleanupIntervalMs / 1000,
            default_user_agent: config.defaultUserAgent,
            default_connection_timeout: config.connectTimeoutMs / 1000,
            default_read_timeout: config.readTimeoutMs / 1000,
            default_max_retries: config.maxRetries,
            trust_proxy: config.trustProxy,
          },
          capabilities: {
            hls: true,
            continuous_streams: true,
            vod_range_requests: true,
            failover: true,
            ll_hls: true,
            opaque_playback_urls: true,
            webhooks: true,
            metrics: true,
            supported_direct_extensions: ['.ts', '.mp4', '.mkv', '.webm', '.avi'],
          },
        });
      },
    },
    {
      method: 'GET',
      path: '/stats',
      auth: true,
      handler({ res }) {
        sendJson(res, 200, {
          ...stats(),
          streams: allStreamStats(registry, config.defaultUserAgent, deps.sharing),
          clients: allClientStats(registry, deps.sharing),
        });
      },
    },
    {
      method: 'GET',
      path: '/stats/streams',
      auth: true,
      handler({ res }) {
        const streams = allStreamStats(registry, config.defaultUserAgent, deps.sharing);
        sendJson(res, 200, { total_streams: streams.length, streams });
      },
    },
    { method: 'GET', path: '/stats/clients', auth: true, handler: ({ res }) => sendJson(res, 200, clientsBody()) },
    { method: 'GET', path: '/clients', auth: true, handler: ({ res }) => sendJson(res, 200, clientsBody()) },
    {
      method: 'GET',
      path: '/clients/:clientId',
      auth: true,
      handler({ res, params }) {
        const id = params['clientId'] ?? '';
        const sessions = [...registry.clients()].filter((c) => c.clientId === id).map((c) => toClientStat(c, deps.sharing));
        if (sessions.length === 0) throw new NotFoundError(`Client ${id}`);
        sendJson(res, 200, { client: sessions[0], sessions });
      },
    },
  ];
}
