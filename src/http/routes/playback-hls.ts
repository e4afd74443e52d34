// Player-facing HLS routes (SPEC §5.2, §5.4): the master playlist, opaque p/ (playlist) and s/ (segment) URLs, and
// the reference's token-only `?url=` forms. None needs the API token; the sealed URLs are their own authorisation.
import { deliveryDirectives } from '../../core/m3u8/blocking-reload.ts';
import { BadRequestError, NotFoundError } from '../../errors.ts';
import type { HlsProxy } from '../../services/hls/proxy-hls.ts';
import type { TranscodeEngine } from '../../services/transcode/engine.ts';
import type { TranscodeService } from '../../services/transcode/service.ts';
import { identifyClient, playerParams } from '../client-identity.ts';
import { overrideUrlOf } from '../override-url.ts';
import type { Handler, Route } from '../router.ts';
import type { RouteDeps } from './deps.ts';

export function playbackHlsRoutes(
  deps: Pick<RouteDeps, 'streams' | 'auth' | 'config'>,
  hls: HlsProxy,
  transcode?: { service: TranscodeService; engine: TranscodeEngine },
): Route[] {
  const { streams, auth, config } = deps;

  const master: Handler = async ({ req, res, path, query, params }) => {
    const stream = streams.get(params['id'] ?? '');
    // SPEC §13: a transcode's playlist is the one its FFmpeg writes (409 when it writes a continuous stream).
    const spec = transcode?.service.specFor(stream);
    if (transcode && spec) {
      const { clientId, info } = identifyClient(req, query, stream.id, config.trustProxy);
      await transcode.engine.servePlaylist({ res, stream, spec, clientId, info, keepQuery: playerParams(query) });
      return;
    }
    const url = overrideUrlOf(req, query, auth);
    const { clientId, info } = identifyClient(req, query, stream.id, config.trustProxy);
    await hls.servePlaylist({ req, res, path, stream, clientId, info, url, variant: false, directives: deliveryDirectives(query) });
  };

  // The client id travels inside the token, so a client keeps it through every URL its playlists handed out.
  const variant: Handler = async ({ req, res, path, query, params }) => {
    const stream = streams.get(params['id'] ?? '');
    const sealed = hls.openFile(stream.id, 'p', params['file'] ?? '');
    const { info } = identifyClient(req, query, stream.id, config.trustProxy);
    await hls.servePlaylist({ req, res, path, stream, clientId: sealed.clientId, info, url: sealed.url, variant: true, directives: deliveryDirectives(query) });
  };

  const segment: Handler = async ({ req, res, method, query, params }) => {
    const stream = streams.get(params['id'] ?? '');
    const sealed = hls.openFile(stream.id, 's', params['file'] ?? '');
    const { info } = identifyClient(req, query, stream.id, config.trustProxy);
    await hls.serveSegment({ req, res, stream, clientId: sealed.clientId, info, url: sealed.url, head: method === 'HEAD' });
  };

  const legacySegment: Handler = async ({ req, res, method, query, params }) => {
    const stream = streams.get(params['id'] ?? '');
    const url = overrideUrlOf(req, query, auth);
    if (url === undefined) throw new BadRequestError('The url parameter is required');
    const { clientId, info } = identifyClient(req, query, stream.id, config.trustProxy);
    await hls.serveSegment({ req, res, stream, clientId, info, url, head: method === 'HEAD' });
  };

  // Files of an HLS transcode's directory, by plain name only (no token: the name cannot leave that directory).
  const transcodeFile: Handler = async ({ req, res, method, query, params }) => {
    const stream = streams.get(params['id'] ?? '');
    const spec = transcode?.service.specFor(stream);
    if (!transcode || !spec) throw new NotFoundError(`File ${params['file'] ?? ''}`);
    const { clientId, info } = identifyClient(req, query, stream.id, config.trustProxy);
    const range = req.headers.range;
    await transcode.engine.serveFile({ res, stream, spec, clientId, info, range, head: method === 'HEAD' }, params['file'] ?? '');
  };

  return [
    { method: 'GET', path: '/hls/:id/playlist.m3u8', auth: false, handler: master },
    { method: 'GET', path: '/hls/:id/t/:file', auth: false, handler: transcodeFile },
    { method: 'HEAD', path: '/hls/:id/t/:file', auth: false, handler: transcodeFile },
    { method: 'GET', path: '/hls/:id/p/:file', auth: false, handler: variant },
    { method: 'GET', path: '/hls/:id/s/:file', auth: false, handler: segment },
    { method: 'HEAD', path: '/hls/:id/s/:file', auth: false, handler: segment },
    { method: 'GET', path: '/hls/:id/segment', auth: false, handler: legacySegment },
    { method: 'GET', path: '/hls/:id/segment.ts', auth: false, handler: legacySegment },
  ];
}
