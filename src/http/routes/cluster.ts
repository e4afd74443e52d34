// GET /cluster (SPEC §16, cluster mode only): the living nodes and the channel leases, as the cluster store has them.
import type { ClusterLink } from '../../services/cluster/link.ts';
import { clusterStatus } from '../../services/cluster/status.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../router.ts';

export function clusterRoutes(link: ClusterLink): Route[] {
  return [
    {
      method: 'GET',
      path: '/cluster',
      auth: true,
      async handler({ res }) {
        sendJson(res, 200, await clusterStatus(link));
      },
    },
  ];
}
