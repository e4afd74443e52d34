// GET /stats/detailed and /stats/performance (SPEC §7): upstream pool sockets, failovers, errors by kind, throughput.
import { proxyStats } from '../../services/stats.ts';
import type { UpstreamStats } from '../../services/upstream/upstream-stats.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../router.ts';
import type { RouteDeps } from './deps.ts';

export function statsDetailedRoutes(deps: Pick<RouteDeps, 'registry' | 'connections' | 'startedAt'>, upstream: UpstreamStats): Route[] {
  const { registry, connections } = deps;

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
        sendJson(res, 200, { ...proxyStats(registry, deps.startedAt), ...upstreamBody(), performance: performanceBody() });
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
