// Peer addresses: which ones are on the local side of the network (loopback, private, unique-local), for TRUST_PROXY.
// Checked on every request (client identity), so by hand: net.BlockList.check() built a SocketAddress each time,
// ~30 µs per request on the cold-start path (issue 24.8).
import { isIPv4, isIPv6 } from 'node:net';

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) → `10.0.0.1`; anything else unchanged. */
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number, or -1 when it is not one (no leading zeros, as isIPv4). */
function ipv4Value(s: string): number {
  let value = 0;
  let part = -1;
  let parts = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (part < 0 || ++parts > 4) return -1;
      value = value * 256 + part;
      part = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (part === 0 && digits > 0) return -1;
      part = part < 0 ? c - 48 : part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else return -1;
  }
  return parts === 4 ? value : -1;
}

// RFC 1122 loopback, RFC 1918 private, RFC 4193 unique-local (fc00::/7) and ::1. Link-local is left out on purpose:
// a reverse proxy worth trusting has a routable address on the LAN or the container network.
function isLocalIPv4(v: number): boolean {
  const a = Math.floor(v / 16777216);
  const b = Math.floor(v / 65536) % 256;
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** True for a loopback, private (RFC 1918) or unique-local (RFC 4193) IP address; false for anything else. */
export function isLocalSideAddress(address: string): boolean {
  const ip = unmapIPv4(address);
  const v4 = ipv4Value(ip);
  if (v4 >= 0) return isLocalIPv4(v4);
  // A zone index (fe80::1%eth0) is not part of the address; anything that is no IP literal is not local.
  const bare = ip.replace(/%.*$/, '').toLowerCase();
  if (!isIPv6(bare)) return false;
  if (bare === '::1') return true;
  // fc00::/7: a first group of four hex digits starting fc or fd (a shorter group, like fc0::, is 0x0fc0).
  const colon = bare.indexOf(':');
  return colon === 4 && (bare.startsWith('fc') || bare.startsWith('fd'));
}
