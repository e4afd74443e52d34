// Player-facing continuous/VOD routes (SPEC §5.1): GET and HEAD /stream/{id}, no token, plus the token-only ?url= form.
import { parseHttpUrl } from '../../core/url.ts';
import { ForbiddenError } from '../../errors.ts';
import type { StreamProxy } from '../../services/proxy-stream.ts';
import { identifyClient } from '../client-identity.ts';
import type { Handler, Route } from '../router.ts';
import type { RouteDeps } from './deps.ts';

export function playbackStreamRoutes(deps: Pick<RouteDeps, 'streams' | 'auth' | 'config'>, proxy: StreamProxy): Route[] {
  const handler: Handler = async ({ req, res, method, query, params }) => {
    const stream = deps.streams.get(params['id'] ?? '');
    // SPEC §5.4: an explicit upstream URL is an open-proxy hazard, so only a token holder may name one.
    const rawUrl = query.get('url');
    let overrideUrl: string | undefined;
    if (rawUrl !== null) {
      if (!deps.auth.isValid(req, query)) throw new ForbiddenError('The url parameter needs a valid API token', 'FORBIDDEN_URL');
      const parsed = parseHttpUrl(rawUrl);
      if (!parsed) throw new ForbiddenError('The url parameter must be an http(s) URL', 'FORBIDDEN_URL');
      overrideUrl = parsed.href;
    }
    const { clientId, info } = identifyClient(req, query, stream.id, deps.config.trustProxy);
    await proxy.serve({ req, res, stream, clientId, info, head: method === 'HEAD', overrideUrl });
  };
  return [
    { method: 'GET', path: '/stream/:id', auth: false, handler },
    { method: 'HEAD', path: '/stream/:id', auth: false, handler },
  ];
}
