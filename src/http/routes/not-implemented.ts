// The reference's FFmpeg features not built yet (SPEC §3.3): transcoding and the cookies-file check answer 501 with a
// JSON error that says why, so a manager's log names the reason instead of a bare "route not found".
import { NotImplementedError } from '../../errors.ts';
import type { Route } from '../router.ts';

const WHY = 'm3u-proxy passes upstream bytes through unchanged and does not run FFmpeg: it does not transcode';

function refuse(what: string): () => never {
  return () => {
    throw new NotImplementedError(`${what} is not supported: ${WHY}`);
  };
}

/**
 * The single routes of the features not built yet. No token needed: the answer is the same for everyone and
 * reveals nothing.
 */
export function notImplementedRoutes(): Route[] {
  const routes: Route[] = [
    { method: 'POST', path: '/transcode', auth: false, handler: refuse('Transcoding') },
    { method: 'GET', path: '/transcode/profiles', auth: false, handler: refuse('Transcoding') },
    { method: 'GET', path: '/validate-cookies-file', auth: false, handler: refuse('Cookies files (for stream resolvers)') },
  ];
  return routes;
}
