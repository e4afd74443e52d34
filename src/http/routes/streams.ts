// Management API for streams (SPEC §3): validate input, call the stream service, answer. No business logic here.
import type { StreamRecord } from '../../core/registry.ts';
import { NotFoundError } from '../../errors.ts';
import { allStreamStats, streamTypeOf, toClientStat, toStreamStat } from '../../services/stats.ts';
import { readJson } from '../body.ts';
import { sendJson } from '../respond.ts';
import type { Handler, RequestContext, Route } from '../router.ts';
import { parseStreamInput } from '../validate.ts';
import type { RouteDeps } from './deps.ts';

/** SPEC §3.1: direct streams play at /stream/{id}, everything else at the HLS playlist. */
export function endpointFor(rootPath: string, stream: StreamRecord): string {
  return stream.kind === 'direct' ? `${rootPath}/stream/${stream.id}` : `${rootPath}/hls/${stream.id}/playlist.m3u8`;
}

export function streamRoutes(deps: RouteDeps): Route[] {
  const { registry, streams, config } = deps;
  const stat = (s: StreamRecord) => toStreamStat(registry, s, config.defaultUserAgent, deps.sharing);
  /** SPEC §16: run on the node where the stream plays (unless `here` says this node has what the call acts on). */
  const atOwner = (h: Handler, here: (ctx: RequestContext) => boolean = () => false): Handler => {
    const forward = deps.atOwner;
    if (forward === undefined) return h;
    return async (ctx) => {
      if (!here(ctx) && (await forward(ctx))) return;
      await h(ctx);
    };
  };

  return [
    {
      method: 'POST',
      path: '/streams',
      auth: true,
      async handler({ req, res }) {
        const input = parseStreamInput(await readJson(req));
        const { stream, created } = streams.create(input);
        await streams.saved();
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
      async handler({ res, params }) {
        const id = params['id'] ?? '';
        streams.delete(id);
        await streams.saved();
        sendJson(res, 200, { message: `Stream ${id} deleted` });
      },
    },
    {
      method: 'POST',
      path: '/streams/:id/failover',
      auth: true,
      handler: atOwner(async ({ res, params }) => {
        const { newUrl, index, stream } = await streams.failover(params['id'] ?? '');
        await streams.saved();
        sendJson(res, 200, {
          message: 'Failover successful',
          new_url: newUrl,
          failover_index: index,
          failover_attempts: stream.failoverAttempts,
          active_clients: registry.clientCount(stream.id),
          stream_type: streamTypeOf(stream),
        });
      }),
    },
    {
      method: 'DELETE',
      path: '/hls/:id/clients/:clientId',
      auth: true,
      handler: atOwner(
        ({ res, params }) => {
          const id = params['id'] ?? '';
          const clientId = params['clientId'] ?? '';
          if (!streams.find(id)) throw new NotFoundError(`Stream ${id}`);
          streams.kickClient(id, clientId);
          sendJson(res, 200, { message: `Client ${clientId} disconnected` });
        },
        ({ params }) => registry.findClient(params['id'] ?? '', params['clientId'] ?? '').length > 0,
      ),
    },
  ];
}

