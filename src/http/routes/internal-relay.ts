// SPEC §16: the internal route a node relays a live channel from its owner with. Not for players: it answers only
// a request carrying `Authorization: Bearer <CLUSTER_SECRET>` (401 otherwise, compared in constant time), and only
// when this node owns the channel or can take its lease (503 otherwise: the asking node tries again).
import type { StreamRecord } from '../../core/registry.ts';
import { NotFoundError, UnauthorizedError } from '../../errors.ts';
import type { StreamProxy } from '../../services/continuous/proxy-stream.ts';
import { relayClientId, RELAY_NODE_HEADER } from '../../services/cluster/relay-client.ts';
import { carriesClusterSecret } from '../../services/cluster/secret.ts';
import type { Route } from '../router.ts';

export interface InternalRelayDeps {
  secret: string;
  /** The stream here, or its definition fetched from the cluster store. */
  lookup(id: string): Promise<StreamRecord | undefined>;
  proxy: StreamProxy;
}

export function internalRelayRoutes(deps: InternalRelayDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/internal/relay/:id',
      auth: false,
      async handler({ req, res, params }) {
        if (!carriesClusterSecret(req.headers, deps.secret)) throw new UnauthorizedError('This route is for the nodes of a cluster (Authorization: Bearer CLUSTER_SECRET)');
        const id = params['id'] ?? '';
        const stream = await deps.lookup(id);
        if (stream === undefined) throw new NotFoundError(`Stream ${id}`);
        const node = String(req.headers[RELAY_NODE_HEADER] ?? 'unknown').slice(0, 200);
        await deps.proxy.serve({
          req,
          res,
          stream,
          clientId: relayClientId(node),
          info: { ip: req.socket.remoteAddress ?? '', userAgent: 'm3u-proxy-relay', username: null },
          head: false,
          peer: true,
        });
      },
    },
  ];
}
