// What the dashboard's event stream (GET /ui/events) sends each second: per stream its viewers, provider connections,
// failover position and bytes served (the page turns byte deltas into a bit rate), and the totals; then the FFmpeg
// processes the proxy runs (broadcasts), one group per process provider. Read-only.
import { urlRing, type Registry, type StreamRecord } from '../core/registry.ts';
import { isoTime, streamTypeOf, toClientStat, type ClientStat, type SharingView } from './stats.ts';

/** Bounds one snapshot: it is serialised every second for every open dashboard, whatever the registry holds. */
export const SNAPSHOT_MAX_STREAMS = 500;
export const SNAPSHOT_MAX_CLIENTS_PER_STREAM = 50;
/** Clients listed in one snapshot over all streams (they are most of its bytes). */
export const SNAPSHOT_MAX_CLIENTS = 500;
/** Processes listed per group (a broadcast is one per editor network: tens, not thousands). */
export const SNAPSHOT_MAX_PROCESSES = 100;

export interface DashboardStream {
  stream_id: string;
  stream_type: string;
  client_count: number;
  /** Provider (upstream) connections this stream holds now. */
  upstream_connections: number;
  bytes_served: number;
  error_count: number;
  /** Position in the URL ring (0 = primary) and its length. */
  current_failover_index: number;
  url_count: number;
  has_failover: boolean;
  failover_count: number;
  last_failover_time: string | null;
  clients: Pick<ClientStat, 'client_id' | 'ip_address' | 'user_agent' | 'username' | 'bytes_served' | 'created_at'>[];
  /** The list was cut (SNAPSHOT_MAX_CLIENTS_PER_STREAM, or SNAPSHOT_MAX_CLIENTS reached); client_count is exact. */
  clients_truncated: boolean;
}

/** One FFmpeg process the proxy runs, in a shape shared by every kind, so the page draws them all the same way. */
export interface DashboardProcess {
  /** Its id in its own API (a broadcast's network id). */
  id: string;
  status: 'running' | 'stopping' | 'stopped' | 'failed';
  /** FFmpeg's process id (once it ended: the one it had). */
  pid: number;
  started_at: string;
  /** Its input with every query value masked and no user info: provider keys never reach the page. */
  stream_url: string;
  bytes_written: number;
  /** A broadcast's newest segment number; null for kinds without segments. */
  current_segment_number: number | null;
  error_message: string | null;
  /** The page's stop button: an API path relative to the API root; null when there is nothing to stop. */
  stop: { method: 'POST' | 'DELETE'; path: string } | null;
}

/** A kind of process the dashboard lists: app.ts passes one per kind to dashboardSnapshot. */
export interface ProcessProvider {
  /** Singular noun for the page's messages ("broadcast"). */
  readonly kind: string;
  /** The section's heading ("Broadcasts"). */
  readonly title: string;
  /** How many there are, and at most `max` of them, active ones first. */
  list(max: number): { total: number; items: DashboardProcess[] };
}

export interface DashboardProcessGroup {
  kind: string;
  title: string;
  total: number;
  /** More than SNAPSHOT_MAX_PROCESSES: total stays exact. */
  truncated: boolean;
  items: DashboardProcess[];
}

export interface DashboardSnapshot {
  /** Server time of the snapshot (epoch ms): the page divides byte deltas by deltas of this. */
  t: number;
  total_streams: number;
  total_clients: number;
  total_upstream_connections: number;
  total_bytes_served: number;
  streams: DashboardStream[];
  /** More streams than SNAPSHOT_MAX_STREAMS: streams with viewers are listed first, totals stay exact. */
  streams_truncated: boolean;
  /** One group per provider, in the order given (empty groups included: the page says "none"). */
  processes: DashboardProcessGroup[];
}

export function dashboardSnapshot(registry: Registry, sharing?: SharingView, providers: readonly ProcessProvider[] = []): DashboardSnapshot {
  const upstreamOf = (s: StreamRecord): number => (sharing ? sharing.upstreamCount(s.id) : 0);
  let upstreamTotal = 0;
  const watched: StreamRecord[] = [];
  const idle: StreamRecord[] = [];
  for (const s of registry.streams()) {
    upstreamTotal += upstreamOf(s);
    (registry.clientCount(s.id) > 0 ? watched : idle).push(s);
  }
  const listed = watched.concat(idle).slice(0, SNAPSHOT_MAX_STREAMS);
  let budget = SNAPSHOT_MAX_CLIENTS;
  const streams = listed.map((s) => {
    const entry = streamEntry(registry, s, upstreamOf(s), Math.min(budget, SNAPSHOT_MAX_CLIENTS_PER_STREAM), sharing);
    budget -= entry.clients.length;
    return entry;
  });
  return {
    t: registry.now(),
    total_streams: registry.streamCount(),
    total_clients: registry.clientCount(),
    total_upstream_connections: upstreamTotal,
    total_bytes_served: registry.totalBytesServed,
    streams,
    streams_truncated: listed.length < registry.streamCount(),
    processes: providers.map(processGroup),
  };
}

function processGroup(p: ProcessProvider): DashboardProcessGroup {
  const { total, items } = p.list(SNAPSHOT_MAX_PROCESSES);
  // A provider that ignored `max` still cannot grow the snapshot.
  const listed = items.slice(0, SNAPSHOT_MAX_PROCESSES);
  return { kind: p.kind, title: p.title, total, truncated: listed.length < total, items: listed };
}

function streamEntry(registry: Registry, s: StreamRecord, upstream: number, maxClients: number, sharing?: SharingView): DashboardStream {
  const clients = registry.clientsOf(s.id);
  return {
    stream_id: s.id,
    stream_type: streamTypeOf(s),
    client_count: clients.length,
    upstream_connections: upstream,
    bytes_served: s.bytesServed,
    error_count: s.errorCount,
    current_failover_index: s.currentIndex,
    url_count: urlRing(s).length,
    has_failover: s.failoverUrls.length > 0 || s.resolverUrl !== null,
    failover_count: s.failoverCount,
    last_failover_time: s.lastFailoverAt === null ? null : isoTime(s.lastFailoverAt),
    clients: clients.slice(0, maxClients).map((c) => {
      const { client_id, ip_address, user_agent, username, bytes_served, created_at } = toClientStat(c, sharing);
      return { client_id, ip_address, user_agent, username, bytes_served, created_at };
    }),
    clients_truncated: clients.length > maxClients,
  };
}
