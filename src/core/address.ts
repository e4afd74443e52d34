// Peer addresses: which ones are on the local side of the network (loopback, private, unique-local), for TRUST_PROXY.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

// RFC 1122 loopback, RFC 1918 private, RFC 4193 unique-local (fc00::/7) and ::1. Link-local is left out on purpose:
// a reverse proxy worth trusting has a routable address on the LAN or the container network.
const LOCAL_SIDE = new BlockList();
LOCAL_SIDE.addSubnet('127.0.0.0', 8, 'ipv4');
LOCAL_SIDE.addSubnet('10.0.0.0', 8, 'ipv4');
LOCAL_SIDE.addSubnet('172.16.0.0', 12, 'ipv4');
LOCAL_SIDE.addSubnet('192.168.0.0', 16, 'ipv4');
LOCAL_SIDE.addAddress('::1', 'ipv6');
LOCAL_SIDE.addSubnet('fc00::', 7, 'ipv6');

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) → `10.0.0.1`; anything else unchanged. */
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** True for a loopback, private (RFC 1918) or unique-local (RFC 4193) IP address; false for anything else. */
export function isLocalSideAddress(address: string): boolean {
  const ip = unmapIPv4(address);
  if (isIPv4(ip)) return LOCAL_SIDE.check(ip, 'ipv4');
  // A zone index (fe80::1%eth0) is not part of the address; anything that is no IP literal is not local.
  const bare = ip.replace(/%.*$/, '');
  return isIPv6(bare) && LOCAL_SIDE.check(bare, 'ipv6');
}
