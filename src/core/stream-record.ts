// What the registry holds: a stream's definition and live state, and a client session. Plain data; the registry
// (registry.ts) is its only writer, services read it.

export type StreamKind = 'hls' | 'direct';
export type ObservedType = 'HLS' | 'VOD' | 'Live Continuous';
export type ClientKind = 'hls' | 'continuous';

/** The reference's silence-detection settings: stored and answered back only (no audio is decoded here). */
export type SilenceSettings = Readonly<Record<string, boolean | number | null>>;

export interface StreamInput {
  url: string;
  failoverUrls: string[];
  userAgent: string | null;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  kind: StreamKind;
  /** SPEC §3.1 options; absent means the default (false, or SHARE_LIVE_UPSTREAM for shareUpstream). */
  resolverUrl?: string | null;
  strictLiveTs?: boolean;
  useStickySession?: boolean;
  shareUpstream?: boolean;
  silence?: SilenceSettings;
}

/** How many URLs handed out by a failover resolver a stream keeps in its ring (the oldest slot is reused after). */
export const MAX_RESOLVED_URLS = 8;

export interface StreamRecord {
  readonly id: string;
  readonly url: string;
  failoverUrls: string[];
  /** null: the configured default User-Agent applies. */
  userAgent: string | null;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  readonly kind: StreamKind;
  /** What the origin turned out to serve, once a player has fetched it. */
  observedType: ObservedType | null;
  /** Position in the ring [url, ...failoverUrls] that new connections start from. */
  currentIndex: number;
  failoverCount: number;
  errorCount: number;
  bytesServed: number;
  segmentsServed: number;
  readonly createdAt: number;
  lastAccess: number;
  /** POSTed for the next URL when the current one fails or on manual failover (SPEC §3.1); null: none. */
  resolverUrl: string | null;
  /** URLs the resolver handed out: the ring's tail after failoverUrls, at most MAX_RESOLVED_URLS. */
  resolvedUrls: string[];
  /** Switches to another URL (automatic or manual), as the reference counts them; failoverCount is the same today. */
  failoverAttempts: number;
  lastFailoverAt: number | null;
  strictLiveTs: boolean;
  useStickySession: boolean;
  shareUpstream: boolean;
  silence: SilenceSettings;
  /** True from stream_started until stream_stopped: the two events alternate (SPEC §6). */
  running: boolean;
  /** use_sticky_session: entry URL -> the URL a redirect handed out, asked directly on reconnects (bounded). */
  readonly stickyUrls: Map<string, string>;
  /** strict_live_ts: URL -> epoch ms until which it is skipped after a stall. */
  readonly stalledUntil: Map<string, number>;
}

export interface ClientInfo {
  userAgent: string;
  ip: string;
  username: string | null;
}

export interface ClientRecord extends ClientInfo {
  /** Unique per session: HLS clients have one per (stream, client id), continuous clients one per connection. */
  readonly key: string;
  readonly clientId: string;
  readonly streamId: string;
  readonly kind: ClientKind;
  bytesServed: number;
  segmentsServed: number;
  readonly createdAt: number;
  lastAccess: number;
  /** Continuous sessions: bytesServed when lastAccess was last refreshed (refreshSessions). */
  bytesAtRefresh: number;
  /** SPEC §16: another node relaying the stream from this one; not a viewer (that node counts its own). */
  relay?: boolean;
}

/** Bounds on client records (issue 14: a flood of fresh client ids must not grow memory without end). */
export interface ClientLimits {
  /** Records per stream; at the bound a new client evicts the stream's least recently active HLS client. */
  perStream: number;
  /** Records in all; at the bound a new client evicts the least recently active HLS client anywhere. */
  total: number;
}

/** Longest stored User-Agent and username, in UTF-8 bytes: what a player sends is shown, not kept whole. */
export const MAX_CLIENT_TEXT_BYTES = 512;

/** `value` cut to at most MAX_CLIENT_TEXT_BYTES of UTF-8, never in the middle of a character. */
export function capClientText(value: string): string {
  // Up to a quarter of the bound in UTF-16 units cannot exceed it in bytes (4 bytes per code point at most): no encode.
  if (value.length <= MAX_CLIENT_TEXT_BYTES / 4) return value;
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length <= MAX_CLIENT_TEXT_BYTES) return value;
  let end = MAX_CLIENT_TEXT_BYTES;
  // Back off continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

export interface ExpiredSet {
  clients: ClientRecord[];
  streams: StreamRecord[];
}

/** The narrow store interface services use; another store could implement it. */
