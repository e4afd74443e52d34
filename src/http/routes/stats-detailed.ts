// GET /stats/detailed and /stats/performance (SPEC §7): upstream pool sockets, failovers, errors by kind, throughput.
import { proxyStats } from '../../services/stats.ts';
import type { SharingMetricsSource } from '../../services/metrics.ts';
import type { UpstreamStats } from '../../services/upstream/upstream-stats.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../router.ts';
import type { RouteDeps } from './deps.ts';

export function statsDetailedRoutes(deps: Pick<RouteDeps, 'registry' | 'connections' | 'startedAt'>, upstream: UpstreamStats, sharing?: SharingMetricsSource): Route[] {
  const { registry, connections } = deps;

  /** SPEC §5.5: per stream with clients, its upstream connections and viewers; plus the jump counters. */
  function sharingBody() {
    if (!sharing) return {};
    const viewers = new Map(sharing.figures().map((f) => [f.streamId, f]));
    const streams = [];
    for (const s of registry.streams()) {
      const clients = registry.clientCount(s.id);
      if (clients === 0) continue;
      const f = viewers.get(s.id);
      streams.push({ stream_id: s.id, upstream_connections: sharing.upstreamCount(s.id), clients, shared_viewers: f?.viewers ?? 0, shared_queue_bytes: f?.retainedBytes ?? 0 });
    }
    const t = sharing.totals();
    return {
      upstream_connections_by_stream: streams,
      shared_upstreams: viewers.size,
      shared_viewer_jumps: t.jumps,
      shared_skipped_bytes: t.skippedBytes,
      shared_viewer_timeouts: t.viewerTimeouts,
    };
  }

  function upstreamBody() {
    const sockets = upstream.sockets();
    const errors = upstream.errors();
    const counters = upstream.counters();
    let streamFailovers = 0;
    let streamErrors = 0;
    for (const s of registry.streams()) {
      streamFailovers += s.failoverCount;
      streamErrors += s.errorCount;
    }
    return {
      upstream_sockets: sockets.map((s) => ({ host: s.host, open: s.open, free: s.free, in_use: s.open - s.free })),
      upstream_sockets_open: sockets.reduce((n, s) => n + s.open, 0),
      upstream_sockets_free: sockets.reduce((n, s) => n + s.free, 0),
      failovers: {
        automatic: counters.automaticFailovers,
        manual_player_switches: counters.manualSwitches,
        mid_stream_reconnects: counters.reconnects,
        registered_streams_total: streamFailovers,
      },
      errors_by_kind: errors,
      errors_total: Object.values(errors).reduce((n, v) => n + v, 0),
      registered_streams_error_count: streamErrors,
    };
  }

  function performanceBody() {
    const rate = upstream.throughput();
    const mem = process.memoryUsage();
    return {
      live_connections: connections.count(),
      bytes_per_second: rate.bytesPerSecond,
      rate_window_seconds: rate.windowSeconds,
      total_bytes_served: registry.totalBytesServed,
      memory: { rss: mem.rss, heap_used: mem.heapUsed, external: mem.external },
    };
  }

  return [
    {
      method: 'GET',
      path: '/stats/detailed',
      auth: true,
      handler({ res }) {
        sendJson(res, 200, { ...proxyStats(registry, deps.startedAt), ...upstreamBody(), ...sharingBody(), performance: performanceBody() });
      },
    },
    {
      method: 'GET',
      path: '/stats/performance',
      auth: true,
      handler({ res }) {
        const up = upstreamBody();
        sendJson(res, 200, {
          ...performanceBody(),
          upstream_sockets: up.upstream_sockets,
          upstream_sockets_open: up.upstream_sockets_open,
          upstream_sockets_free: up.upstream_sockets_free,
          failovers: up.failovers,
          errors_by_kind: up.errors_by_kind,
        });
      },
    },
  ];
}
