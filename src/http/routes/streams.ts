// Management API for streams (SPEC §3): validate input, call the stream service, answer. No business logic here.
import type { StreamRecord } from '../../core/registry.ts';
import { NotFoundError } from '../../errors.ts';
import { allStreamStats, isoTime, streamTypeOf, toClientStat, toStreamStat } from '../../services/stats.ts';
import { readJson } from '../body.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../router.ts';
import { parseMetadataFilter, parseStreamInput, type MetadataFilter } from '../validate.ts';
import type { RouteDeps } from './deps.ts';

/** SPEC §3.1: direct streams play at /stream/{id}, everything else at the HLS playlist. */
export function endpointFor(rootPath: string, stream: StreamRecord): string {
  return stream.kind === 'direct' ? `${rootPath}/stream/${stream.id}` : `${rootPath}/hls/${stream.id}/playlist.m3u8`;
}

export function streamRoutes(deps: RouteDeps): Route[] {
  const { registry, streams, config } = deps;
  const stat = (s: StreamRecord) => toStreamStat(registry, s, config.defaultUserAgent, deps.sharing);

  function matching(filter: MetadataFilter): StreamRecord[] {
    const out: StreamRecord[] = [];
    for (const s of registry.streams()) {
      if (s.metadata[filter.field] !== filter.value) continue;
      if (filter.excludeChannelId !== undefined && s.metadata['id'] === filter.excludeChannelId) continue;
      if (filter.activeOnly && registry.clientCount(s.id) === 0) continue;
      out.push(s);
    }
    return out;
  }

  return [
    {
      method: 'POST',
      path: '/streams',
      auth: true,
      async handler({ req, res }) {
        const input = parseStreamInput(await readJson(req));
        const { stream, created } = streams.create(input);
        const endpoint = endpointFor(config.rootPath, stream);
        const body: Record<string, unknown> = {
          stream_id: stream.id,
          primary_url: stream.url,
          failover_urls: [...stream.failoverUrls],
          user_agent: streams.userAgentOf(stream),
          stream_type: stream.kind,
          stream_endpoint: endpoint,
          playlist_url: endpoint,
          direct_url: endpoint,
          message: created ? `Stream created successfully (${stream.kind})` : `Stream updated successfully (${stream.kind})`,
        };
        if (Object.keys(input.metadata).length > 0) body['metadata'] = { ...stream.metadata };
        sendJson(res, 200, body);
      },
    },
    {
      method: 'GET',
      path: '/streams',
      auth: true,
      handler({ res }) {
        const list = allStreamStats(registry, config.defaultUserAgent, deps.sharing);
        sendJson(res, 200, { streams: list, total: list.length });
      },
    },
    {
      method: 'GET',
      path: '/streams/by-metadata',
      auth: true,
      handler({ res, query }) {
        const filter = parseMetadataFilter(query, undefined);
        const found = matching(filter);
        let totalClients = 0;
        const list = found.map((s) => {
          const clientCount = registry.clientCount(s.id);
          totalClients += clientCount;
          return {
            stream_id: s.id,
            client_count: clientCount,
            metadata: { ...s.metadata },
            last_access: isoTime(s.lastAccess),
            is_active: clientCount > 0,
            url: s.url,
            stream_type: streamTypeOf(s),
          };
        });
        sendJson(res, 200, {
          filter: { field: filter.field, value: filter.value },
          active_only: filter.activeOnly,
          matching_streams: list,
          total_matching: list.length,
          total_clients: totalClients,
        });
      },
    },
    {
      method: 'DELETE',
      path: '/streams/by-metadata',
      auth: true,
      async handler({ req, res, query }) {
        const filter = parseMetadataFilter(query, await readJson(req));
        const ids = matching(filter).map((s) => s.id);
        for (const id of ids) streams.expireStream(id, 'deleted');
        sendJson(res, 200, {
          deleted_count: ids.length,
          deleted_streams: ids,
          message: `Deleted ${ids.length} stream(s) with ${filter.field}=${filter.value}`,
        });
      },
    },
    {
      method: 'DELETE',
      path: '/streams/oldest-by-metadata',
      auth: true,
      async handler({ req, res, query }) {
        const filter = parseMetadataFilter(query, await readJson(req));
        const oldest = matching(filter).reduce<StreamRecord | undefined>(
          (best, s) => (best === undefined || s.createdAt < best.createdAt ? s : best),
          undefined,
        );
        if (!oldest) {
          sendJson(res, 200, {
            deleted_count: 0,
            deleted_stream: null,
            stream_age_seconds: 0,
            message: `No stream with ${filter.field}=${filter.value}`,
          });
          return;
        }
        const age = Math.max(0, (registry.now() - oldest.createdAt) / 1000);
        streams.expireStream(oldest.id, 'deleted');
        sendJson(res, 200, {
          deleted_count: 1,
          deleted_stream: oldest.id,
          stream_age_seconds: age,
          message: `Deleted oldest stream ${oldest.id} with ${filter.field}=${filter.value}`,
        });
      },
    },
    {
      method: 'GET',
      path: '/streams/:id',
      auth: true,
      handler({ res, params }) {
        const stream = streams.get(params['id'] ?? '');
        const clients = registry.clientsOf(stream.id).map((c) => toClientStat(c, deps.sharing));
        sendJson(res, 200, { stream: stat(stream), clients, client_count: clients.length });
      },
    },
    {
      method: 'DELETE',
      path: '/streams/:id',
      auth: true,
      handler({ res, params }) {
        const id = params['id'] ?? '';
        streams.delete(id);
        sendJson(res, 200, { message: `Stream ${id} deleted` });
      },
    },
    {
      method: 'POST',
      path: '/streams/:id/failover',
      auth: true,
      handler({ res, params }) {
        const { newUrl, index } = streams.failover(params['id'] ?? '');
        sendJson(res, 200, { message: 'Failover successful', new_url: newUrl, failover_index: index });
      },
    },
    {
      method: 'DELETE',
      path: '/hls/:id/clients/:clientId',
      auth: true,
      handler({ res, params }) {
        const id = params['id'] ?? '';
        const clientId = params['clientId'] ?? '';
        if (!streams.find(id)) throw new NotFoundError(`Stream ${id}`);
        streams.kickClient(id, clientId);
        sendJson(res, 200, { message: `Client ${clientId} disconnected` });
      },
    },
  ];
}

