// DNS-rebinding guard (SPEC §4): without API_TOKEN, the management API answers only for Host names a rebinding page
// cannot take over: IP literals, localhost, single-label (container and LAN) names, and those ALLOWED_HOSTS lists.
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { ForbiddenError } from '../errors.ts';

/** `Host` header → the host name without port or IPv6 brackets, lower case; '' when absent. */
export function hostName(header: string | undefined): string {
  if (header === undefined) return '';
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** True when a management request for this Host may be served without a token. */
export function isSafeHost(name: string, allowedHosts: ReadonlySet<string>): boolean {
  // No Host at all is no browser (every browser sends one): an HTTP/1.0 script on the LAN.
  if (name === '') return true;
  if (isIP(name) !== 0) return true;
  // A single label (localhost, m3u-proxy, nas) does not resolve through public DNS, so an attacker cannot point it
  // at their own page; a trailing dot makes it a fully qualified name, which can.
  if (!name.includes('.')) return true;
  return allowedHosts.has(name);
}

/** Throws 403 FORBIDDEN_HOST, naming ALLOWED_HOSTS, for a Host a rebinding page could own. */
export function createHostCheck(allowedHosts: readonly string[]): (req: IncomingMessage) => void {
  const allowed = new Set(allowedHosts);
  return (req) => {
    const name = hostName(req.headers.host);
    if (isSafeHost(name, allowed)) return;
    throw new ForbiddenError(
      `Host '${name.slice(0, 64)}' is not allowed without API_TOKEN: add it to ALLOWED_HOSTS, or set API_TOKEN`,
      'FORBIDDEN_HOST',
    );
  };
}
