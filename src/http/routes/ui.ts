// GET /ui (issue 26): the operator dashboard; a management route, so the API token applies (the page forwards ?api_token=).
import { DASHBOARD_HTML } from '../ui/page.ts';
import type { Route } from '../router.ts';

export function uiRoutes(): Route[] {
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
        res.setHeader('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
        res.end(req.method === 'HEAD' ? undefined : DASHBOARD_HTML);
      },
    },
  ];
}
