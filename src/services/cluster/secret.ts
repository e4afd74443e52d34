// The CLUSTER_SECRET check of requests between nodes: `Authorization: Bearer <secret>`, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The header a node sends to another. */
export function clusterAuthorization(secret: string): string {
  return `Bearer ${secret}`;
}

/** True when the request carries the cluster secret as a bearer token. */
export function carriesClusterSecret(headers: IncomingHttpHeaders, secret: string): boolean {
  const m = /^Bearer (.+)$/.exec(headers.authorization ?? '');
  // Hashing first gives equal lengths, so the comparison itself reveals nothing about the secret.
  return m !== null && timingSafeEqual(digest(m[1] ?? ''), digest(secret));
}
