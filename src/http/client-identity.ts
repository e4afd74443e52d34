// Who a player is (SPEC §5.3): client id, address, user agent and username, derived from the request alone.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TrustProxy } from '../config.ts';
import { isLocalSideAddress, unmapIPv4 } from '../core/address.ts';
import type { ClientInfo } from '../core/registry.ts';

const MAX_ID_LENGTH = 128;

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** True when TRUST_PROXY lets this peer speak for the client (X-Forwarded-For/-Proto/-Host). */
export function trustsPeer(peer: string | undefined, trustProxy: TrustProxy): boolean {
  if (trustProxy === 'private') return peer !== undefined && isLocalSideAddress(peer);
  return trustProxy;
}

/** The socket's address, or the first X-Forwarded-For hop when TRUST_PROXY trusts the peer (SPEC §5.3). */
export function clientIp(req: IncomingMessage, trustProxy: TrustProxy): string {
  const peer = req.socket.remoteAddress;
  if (trustsPeer(peer, trustProxy)) {
    const forwarded = firstHeader(req.headers['x-forwarded-for']);
    const first = forwarded?.split(',')[0]?.trim();
    if (first) return unmapIPv4(first);
  }
  return peer === undefined ? 'unknown' : unmapIPv4(peer);
}

export interface ClientIdentity {
  clientId: string;
  info: ClientInfo;
}

/** `client_id` from the query when given, else client_ + 16 hex of MD5("{ip}-{user agent}-{stream id}"). */
export function identifyClient(req: IncomingMessage, query: URLSearchParams, streamId: string, trustProxy: TrustProxy): ClientIdentity {
  const ip = clientIp(req, trustProxy);
  const userAgent = firstHeader(req.headers['user-agent']) ?? '';
  const given = query.get('client_id');
  const clientId =
    given && given.length <= MAX_ID_LENGTH
      ? given
      : 'client_' + createHash('md5').update(`${ip}-${userAgent}-${streamId}`).digest('hex').slice(0, 16);
  const username = query.get('username') ?? firstHeader(req.headers['x-username']) ?? null;
  return { clientId, info: { ip, userAgent, username: username === '' ? null : username } };
}

/** The player's own parameters (client id, username) that URLs handed to it carry along; never the api_token. */
export function playerParams(query: URLSearchParams): URLSearchParams {
  const keep = new URLSearchParams();
  for (const name of ['client_id', 'username']) {
    const v = query.get(name);
    if (v !== null) keep.set(name, v);
  }
  return keep;
}
