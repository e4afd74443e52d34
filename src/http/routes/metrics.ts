// GET /metrics (SPEC §7): the Prometheus scrape endpoint; a management route, so it needs the API token when one is set.
import { METRICS_CONTENT_TYPE } from '../../core/metrics-text.ts';
import type { MetricsService } from '../../services/metrics.ts';
import type { Route } from '../router.ts';

export function metricsRoutes(metrics: MetricsService): Route[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      auth: true,
      handler({ req, res }) {
        const text = metrics.render();
        res.statusCode = 200;
        res.setHeader('content-type', METRICS_CONTENT_TYPE);
        res.setHeader('content-length', Buffer.byteLength(text));
        res.setHeader('cache-control', 'no-store');
        res.end(req.method === 'HEAD' ? undefined : text);
      },
    },
  ];
}
