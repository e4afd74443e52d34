// GET /ui and GET /ui/events (issue 26): the operator dashboard and its live feed; management routes, so the API token
// applies (the page forwards ?api_token=, which EventSource can only send in the query).
import { DASHBOARD_HTML } from '../ui/page.ts';
import type { Route } from '../router.ts';
import type { SseHub } from '../sse.ts';

export function uiRoutes(events: SseHub): Route[] {
  return [
    {
      method: 'GET',
      path: '/ui',
      auth: true,
      handler({ req, res }) {
        res.statusCode = 200;
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.setHeader('content-length', Buffer.byteLength(DASHBOARD_HTML));
        res.setHeader('cache-control', 'no-store');
        res.setHeader('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'");
        res.end(req.method === 'HEAD' ? undefined : DASHBOARD_HTML);
      },
    },
    {
      method: 'GET',
      path: '/ui/events',
      auth: true,
      handler({ res }) {
        events.subscribe(res);
      },
    },
  ];
}
