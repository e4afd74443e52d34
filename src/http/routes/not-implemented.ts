// The reference's FFmpeg features (SPEC §3.3): transcoding, broadcasting and the cookies-file check answer 501 with a
// JSON error that says why, so a manager's log names the reason instead of a bare "route not found".
import { NotImplementedError } from '../../errors.ts';
import type { Method, Route } from '../router.ts';

const WHY = 'm3u-proxy passes upstream bytes through unchanged and does not run FFmpeg: it does not transcode';

const ALL_METHODS: readonly Method[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

function refuse(what: string): () => never {
  return () => {
    throw new NotImplementedError(`${what} is not supported: ${WHY}`);
  };
}

/**
 * Every method of every path below /broadcast, and the single routes of the other features. No token needed: the
 * answer is the same for everyone and reveals nothing, and the reference's broadcast playlists were open to players.
 */
export function notImplementedRoutes(): Route[] {
  const routes: Route[] = [];
  for (const path of ['/broadcast', '/broadcast/:a', '/broadcast/:a/:b', '/broadcast/:a/:b/:c']) {
    for (const method of ALL_METHODS) routes.push({ method, path, auth: false, handler: refuse('Broadcasting (network channels)') });
  }
  return routes;
}
