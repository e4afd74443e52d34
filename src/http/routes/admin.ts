// Health, info and stats endpoints (SPEC §7): read-only views over the registry.
import { VERSION } from '../../config.ts';
import { NotFoundError } from '../../errors.ts';
import { proxyStats, toClientStat } from '../../services/stats.ts';
import { clientStatsPage, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, pageInfo, streamStatsPage } from '../../services/stats-page.ts';
import { sendJson } from '../respond.ts';
import { parsePage, SILENCE_FIELDS } from '../validate.ts';
import type { Route } from '../router.ts';
import type { RouteDeps } from './deps.ts';

export function adminRoutes(deps: RouteDeps): Route[] {
  const { registry, config, startedAt } = deps;
  const stats = () => proxyStats(registry, startedAt);
  // Lists are paged (issue 14): `total_*` stays the whole count, `truncated` says whether more records follow.
  const pageOf = (query: URLSearchParams) => parsePage(query, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT);
  const clientsBody = (query: URLSearchParams) => {
    const page = pageOf(query);
    const { clients, total } = clientStatsPage(registry, page, deps.sharing);
    return { total_clients: total, clients, ...pageInfo(page, clients.length, total) };
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
          root_path: config.rootPath,
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
      async handler({ res }) {
        const transcode = await deps.transcodeInfo?.();
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
            max_clients_per_stream: config.maxClientsPerStream,
            max_clients: config.maxClients,
            webhook_queue_size: config.webhookQueueSize,
            // SPEC §12: null when memory only. The path is the operator's own setting, not a secret.
            state_file: config.stateFile ?? null,
            share_live_upstream: config.shareLiveUpstream,
          },
          // The reference's blocks, which m3u-editor's "Test connection" reads: no FFmpeg, no Redis here.
          ffmpeg_version: null,
          streamlink_version: null,
          ytdlp_version: null,
          hardware_acceleration: { enabled: false, type: null, device: null, ffmpeg_args: [] },
          redis: {
            enabled: false,
            pooling_enabled: false,
            max_clients_per_stream: null,
            stream_timeout: null,
            // Live viewers of one stream share one upstream in this process (SPEC §5.5), without Redis.
            sharing_strategy: config.shareLiveUpstream ? 'in_process_per_stream' : null,
          },
          transcoding: { enabled: false, profiles: [] },
          ignored_stream_fields: {
            fields: Object.keys(SILENCE_FIELDS),
            note: 'silence detection is accepted, stored and answered back, but has no effect: this proxy does not decode audio',
          },
          capabilities: {
            hls: true,
            continuous_streams: true,
            vod_range_requests: true,
            failover: true,
            failover_resolver: true,
            strict_live_ts: true,
            sticky_sessions: true,
            transcoding: false,
            broadcasting: false,
            silence_detection: false,
            ll_hls: true,
            opaque_playback_urls: true,
            webhooks: true,
            metrics: true,
            supported_direct_extensions: ['.ts', '.mp4', '.mkv', '.webm', '.avi'],
            ...(transcode ? { transcoding: transcode.transcoding.enabled } : {}),
          },
          // SPEC §13: the programs really found (versions or null) and whether transcoding works.
          ...transcode,
        });
      },
    },
    {
      method: 'GET',
      path: '/stats',
      auth: true,
      handler({ res, query }) {
        const page = pageOf(query);
        const streams = streamStatsPage(registry, config.defaultUserAgent, page, deps.sharing);
        const clients = clientStatsPage(registry, page, deps.sharing);
        const s = pageInfo(page, streams.streams.length, streams.total);
        const c = pageInfo(page, clients.clients.length, clients.total);
        sendJson(res, 200, { ...stats(), streams: streams.streams, clients: clients.clients, ...c, truncated: s.truncated || c.truncated });
      },
    },
    {
      method: 'GET',
      path: '/stats/streams',
      auth: true,
      handler({ res, query }) {
        const page = pageOf(query);
        const { streams, total } = streamStatsPage(registry, config.defaultUserAgent, page, deps.sharing);
        sendJson(res, 200, { total_streams: total, streams, ...pageInfo(page, streams.length, total) });
      },
    },
    { method: 'GET', path: '/stats/clients', auth: true, handler: ({ res, query }) => sendJson(res, 200, clientsBody(query)) },
    { method: 'GET', path: '/clients', auth: true, handler: ({ res, query }) => sendJson(res, 200, clientsBody(query)) },
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
