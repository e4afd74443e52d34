// Passing a request on to another node and its answer back (SPEC §16): HLS requests to the stream's owner, and
// management calls that must act where the stream plays (manual failover, kick). The other node sees the cluster
// secret (so it never forwards again), the player's address, and the caller's own headers named in `keep`.
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { clusterAuthorization } from './secret.ts';

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date']);
/** The answer header a node sets when it is not the owner a forwarded request expected. */
export const NOT_OWNER_HEADER = 'x-m3u-proxy-owner';

export interface Forward {
  req: IncomingMessage;
  res: ServerResponse;
  /** The other node's base URL plus the path (below ROOT_PATH) and query. */
  url: string;
  secret: string;
  /** The caller's address, as this node identified it. */
  clientIp: string;
  keep: readonly string[];
  timeoutMs: number;
}

/** Resolves true once the answer is passed back (or the caller left); false when the node refused or was unreachable. */
export function forwardRequest(f: Forward): Promise<boolean> {
  const url = new URL(f.url);
  const headers: Record<string, string> = { authorization: clusterAuthorization(f.secret), 'x-forwarded-for': f.clientIp };
  for (const name of f.keep) {
    const v = f.req.headers[name];
    if (typeof v === 'string') headers[name] = v;
  }
  const send = url.protocol === 'https:' ? httpsRequest : request;
  return new Promise((resolve) => {
    const out = send(url, { method: f.req.method, agent: false, headers });
    const timer = setTimeout(() => out.destroy(new Error('the other node did not answer in time')), f.timeoutMs);
    const onCallerGone = (): void => void out.destroy();
    f.res.once('close', onCallerGone);
    out.once('response', (up) => {
      clearTimeout(timer);
      if (up.statusCode === 503 && up.headers[NOT_OWNER_HEADER] === 'no') {
        up.resume();
        f.res.off('close', onCallerGone);
        return resolve(false);
      }
      const back: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k)) back[k] = v;
      f.res.writeHead(up.statusCode ?? 502, back);
      up.pipe(f.res);
      up.once('error', () => f.res.destroy());
      up.once('end', () => f.res.off('close', onCallerGone));
      resolve(true);
    });
    out.once('error', () => {
      clearTimeout(timer);
      f.res.off('close', onCallerGone);
      resolve(f.res.destroyed || f.res.headersSent);
    });
    out.end();
  });
}
