// The read model: turns registry records into the JSON shapes SPEC §3 and §7 name. No I/O, no writes.
import { isPlaylistPath, isVodPath } from '../core/url.ts';
import type { ClientRecord, ObservedType, Registry, StreamRecord } from '../core/registry.ts';
import { urlRing } from '../core/registry.ts';

export interface StreamStat {
  stream_id: string;
  original_url: string;
  current_url: string;
  user_agent: string;
  client_count: number;
  total_bytes_served: number;
  total_segments_served: number;
  error_count: number;
  is_active: boolean;
  has_failover: boolean;
  stream_type: ObservedType;
  created_at: string;
  last_access: string;
  metadata: Record<string, string>;
  failover_urls: string[];
  failover_resolver_url: string | null;
  current_failover_index: number;
  failover_count: number;
  failover_attempts: number;
  last_failover_time: string | null;
  /** Upstream sockets this stream holds open now: the shared live upstream counts once (SPEC §5.5). */
  upstream_connections: number;
  strict_live_ts: boolean;
  use_sticky_session: boolean;
  share_upstream: boolean;
  /** SPEC §5.5: viewers fed by the stream's shared live upstream now. */
  shared_viewers: number;
  /** The reference's silence-detection fields, answered back as given (they have no effect here). */
  enable_silence_detection?: boolean | null;
  silence_threshold_db?: number | null;
  silence_duration?: number | null;
  silence_check_interval?: number | null;
  silence_failover_threshold?: number | null;
  silence_monitoring_grace_period?: number | null;
  /** SPEC §13, transcodes only: what the process produces now, null while none runs. */
  output_media_info?: Record<string, number | string | null> | null;
}

export interface ClientStat {
  client_id: string;
  stream_id: string;
  user_agent: string;
  ip_address: string;
  username: string | null;
  bytes_served: number;
  segments_served: number;
  created_at: string;
  last_access: string;
  /** Listed clients are connected: a session is removed when its player leaves or times out. */
  is_connected: boolean;
  /** SPEC §5.5: bytes a viewer of a shared live stream passed over by jumping to the live edge, and how often. */
  skipped_bytes?: number;
  jumps?: number;
}

export interface ProxyStats {
  total_streams: number;
  active_streams: number;
  total_clients: number;
  active_clients: number;
  total_bytes_served: number;
  total_segments_served: number;
  uptime_seconds: number;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** SPEC §3.2: what the origin served wins; before any player came, the URL's name decides. */
export function streamTypeOf(stream: StreamRecord): ObservedType {
  if (stream.observedType) return stream.observedType;
  if (isPlaylistPath(stream.url) || stream.kind === 'hls') return 'HLS';
  if (isVodPath(stream.url)) return 'VOD';
  return 'Live Continuous';
}

/** Upstream sockets a stream holds now; the shared live upstream (SPEC §5.5) reports its own count here. */
export type UpstreamCount = (streamId: string) => number;

/** What the shared live upstream knows per stream and per viewer (SPEC §5.5); absent when sharing is not wired. */
export interface SharingView {
  upstreamCount: UpstreamCount;
  viewers(streamId: string): number;
  viewerOf(client: ClientRecord): { skippedBytes: number; jumps: number } | undefined;
  /** SPEC §13: a transcode's live output figures (fps, bitrate_kbps, speed, container); undefined otherwise. */
  outputMediaInfo?(streamId: string): Record<string, number | string | null> | null | undefined;
}

export function toStreamStat(registry: Registry, stream: StreamRecord, defaultUserAgent: string, sharing?: SharingView): StreamStat {
  const clientCount = registry.clientCount(stream.id);
  return {
    stream_id: stream.id,
    original_url: stream.url,
    current_url: urlRing(stream)[stream.currentIndex] ?? stream.url,
    user_agent: stream.userAgent ?? defaultUserAgent,
    client_count: clientCount,
    total_bytes_served: stream.bytesServed,
    total_segments_served: stream.segmentsServed,
    error_count: stream.errorCount,
    is_active: clientCount > 0,
    has_failover: stream.failoverUrls.length > 0 || stream.resolverUrl !== null,
    stream_type: streamTypeOf(stream),
    created_at: isoTime(stream.createdAt),
    last_access: isoTime(stream.lastAccess),
    metadata: { ...stream.metadata },
    failover_urls: [...stream.failoverUrls],
    failover_resolver_url: stream.resolverUrl,
    current_failover_index: stream.currentIndex,
    failover_count: stream.failoverCount,
    failover_attempts: stream.failoverAttempts,
    last_failover_time: stream.lastFailoverAt === null ? null : isoTime(stream.lastFailoverAt),
    upstream_connections: sharing ? sharing.upstreamCount(stream.id) : 0,
    strict_live_ts: stream.strictLiveTs,
    use_sticky_session: stream.useStickySession,
    share_upstream: stream.shareUpstream,
    shared_viewers: sharing ? sharing.viewers(stream.id) : 0,
    ...stream.silence,
    ...(sharing?.outputMediaInfo !== undefined && stream.metadata['transcoding'] === 'true' ? { output_media_info: sharing.outputMediaInfo(stream.id) ?? null } : {}),
  };
}

export function toClientStat(client: ClientRecord, sharing?: SharingView): ClientStat {
  const shared = sharing?.viewerOf(client);
  return {
    client_id: client.clientId,
    stream_id: client.streamId,
    user_agent: client.userAgent,
    ip_address: client.ip,
    username: client.username,
    bytes_served: client.bytesServed,
    segments_served: client.segmentsServed,
    created_at: isoTime(client.createdAt),
    last_access: isoTime(client.lastAccess),
    is_connected: true,
    ...(shared ? { skipped_bytes: shared.skippedBytes, jumps: shared.jumps } : {}),
  };
}

export function proxyStats(registry: Registry, startedAt: number): ProxyStats {
  let active = 0;
  for (const s of registry.streams()) if (registry.clientCount(s.id) > 0) active++;
  const clients = registry.clientCount();
  return {
    total_streams: registry.streamCount(),
    active_streams: active,
    total_clients: clients,
    active_clients: clients,
    total_bytes_served: registry.totalBytesServed,
    total_segments_served: registry.totalSegmentsServed,
    uptime_seconds: Math.max(0, (registry.now() - startedAt) / 1000),
  };
}

export function allStreamStats(registry: Registry, defaultUserAgent: string, sharing?: SharingView): StreamStat[] {
  return [...registry.streams()].map((s) => toStreamStat(registry, s, defaultUserAgent, sharing));
}

export function allClientStats(registry: Registry, sharing?: SharingView): ClientStat[] {
  return [...registry.clients()].map((c) => toClientStat(c, sharing));
}
