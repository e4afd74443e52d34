// Player-facing continuous/VOD routes (SPEC §5.1): GET and HEAD /stream/{id}, no token, plus the token-only ?url= form.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { relativeDirRef } from '../../core/relative-uri.ts';
import type { PlaybackRequest, StreamProxy } from '../../services/continuous/proxy-stream.ts';
import type { TranscodeEngine } from '../../services/transcode/engine.ts';
import type { TranscodeService } from '../../services/transcode/service.ts';
import type { TrustProxy } from '../../config.ts';
import type { ClientInfo, StreamRecord } from '../../core/registry.ts';
import { type ClientIdentity, identifyClient, playerParams } from '../client-identity.ts';
import { overrideUrlOf } from '../override-url.ts';
import type { Handler, Route } from '../router.ts';
import type { RouteDeps } from './deps.ts';

export function playbackStreamRoutes(
  deps: Pick<RouteDeps, 'streams' | 'auth' | 'config' | 'clusterLookup'>,
  proxy: StreamProxy,
  transcode?: { service: TranscodeService; engine: TranscodeEngine },
): Route[] {
  const handler: Handler = async ({ req, res, method, path, query, params }) => {
    const id = params['id'] ?? '';
    const stream = (deps.clusterLookup === undefined ? undefined : await deps.clusterLookup(id)) ?? deps.streams.get(id);
    const overrideUrl = overrideUrlOf(req, query, deps.auth);
    // Where the same stream plays as HLS, made only when the answer needs it (most players never do).
    const hlsUrl = (): string => {
      // The player's own parameters come along (client id, username); nothing else, and never the api_token.
      const keep = playerParams(query);
      // Relative to this request's URL, so that it works behind a prefix-stripping proxy; absolute on PUBLIC_URL.
      const safeId = encodeURIComponent(stream.id);
      const dir = deps.config.publicUrl !== undefined ? `${deps.config.publicUrl}/hls/${safeId}/` : relativeDirRef(path, `/hls/${safeId}/`);
      return `${dir}playlist.m3u8${keep.size > 0 ? `?${keep}` : ''}`;
    };
    // SPEC §13: a transcode plays its process's output; an HLS-output one lives at its playlist (relative Location).
    const spec = transcode?.service.specFor(stream);
    if (transcode && spec) {
      if (spec.output.kind === 'hls') {
        res.writeHead(302, { location: hlsUrl(), 'cache-control': 'no-cache' });
        res.end();
        return;
      }
      const { clientId, info } = identifyClient(req, query, stream.id, deps.config.trustProxy);
      await transcode.engine.serve({ req, res, stream, spec, clientId, info, head: method === 'HEAD' });
      return;
    }
    // Returned, not awaited: the route's frame is not kept for the player's whole session (issue 24.7).
    return proxy.serve(new StreamPlayback(req, res, stream, method === 'HEAD', overrideUrl, overrideUrl === undefined ? hlsUrl : undefined, query, deps.config.trustProxy));
  };
  return [
    { method: 'GET', path: '/stream/:id', auth: false, handler },
    { method: 'HEAD', path: '/stream/:id', auth: false, handler },
  ];
}

/**
 * A player's GET or HEAD of /stream/{id}. Who the player is matters only once there is an answer, and a cold
 * channel's player is recorded after its first bytes left: worked out on first use, its identity is not in the way of
 * the upstream request (issue 24.8).
 */
class StreamPlayback implements PlaybackRequest {
  #identity: ClientIdentity | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly stream: StreamRecord,
    readonly head: boolean,
    readonly overrideUrl: string | undefined,
    readonly hlsUrl: (() => string) | undefined,
    private readonly query: URLSearchParams,
    private readonly trustProxy: TrustProxy,
  ) {}

  get clientId(): string {
    return this.#who().clientId;
  }

  get info(): ClientInfo {
    return this.#who().info;
  }

  #who(): ClientIdentity {
    return (this.#identity ??= identifyClient(this.req, this.query, this.stream.id, this.trustProxy));
  }
}
