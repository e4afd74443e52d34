// Pure renderers: the server's JSON answers (SPEC §3, §6, §7) → the CLI's human-readable text. No I/O.
import {
  asObject,
  asObjects,
  cell,
  formatAgo,
  formatDuration,
  formatFields,
  formatTable,
  formatTime,
  num,
  plural,
  str,
  strings,
  type JsonObject,
} from './format.ts';

/** "2/3": the stream is on the second of its three URLs (primary + failovers). */
function urlPosition(s: JsonObject): string {
  const index = num(s, 'current_failover_index');
  const total = strings(s, 'failover_urls').length + 1;
  return index === undefined ? '-' : `${index + 1}/${total}`;
}

function metadataText(v: unknown): string | undefined {
  const entries = Object.entries(asObject(v));
  return entries.length === 0 ? undefined : entries.map(([k, val]) => `${k}=${String(val)}`).join(', ');
}

export function streamsTable(streams: readonly JsonObject[]): string {
  return formatTable(
    [{ title: 'id' }, { title: 'type' }, { title: 'clients', align: 'right' }, { title: 'served', align: 'right' }, { title: 'url#' }, { title: 'active' }, { title: 'url' }],
    streams.map((s) => [
      cell.text(str(s, 'stream_id')),
      cell.text(str(s, 'stream_type')),
      cell.int(num(s, 'client_count')),
      cell.bytes(num(s, 'total_bytes_served')),
      urlPosition(s),
      cell.yesNo(s['is_active']),
      cell.text(str(s, 'current_url')),
    ]),
  );
}

/** Stream ids are 32 hex chars; 12 identify one among thousands and keep client tables narrow. */
export function shortId(id: string | undefined): string {
  return id === undefined ? '-' : id.slice(0, 12);
}

export function clientsTable(clients: readonly JsonObject[], nowMs: number, withStream: boolean): string {
  const cols = [
    { title: 'client' },
    ...(withStream ? [{ title: 'stream' }] : []),
    { title: 'ip' },
    { title: 'user' },
    { title: 'served', align: 'right' as const },
    { title: 'segments', align: 'right' as const },
    { title: 'last seen' },
    { title: 'user agent' },
  ];
  return formatTable(
    cols,
    clients.map((c) => [
      cell.text(str(c, 'client_id')),
      ...(withStream ? [shortId(str(c, 'stream_id'))] : []),
      cell.text(str(c, 'ip_address')),
      cell.text(str(c, 'username')),
      cell.bytes(num(c, 'bytes_served')),
      cell.int(num(c, 'segments_served')),
      formatAgo(str(c, 'last_access'), nowMs),
      cell.text(str(c, 'user_agent')),
    ]),
  );
}

/** GET /streams → {streams, total} */
export function renderList(body: unknown): string {
  const streams = asObjects(asObject(body)['streams']);
  if (streams.length === 0) return 'No streams.';
  return `${streamsTable(streams)}\n\n${plural(num(asObject(body), 'total') ?? streams.length, 'stream')}`;
}

/** GET /streams/{id} → {stream, clients, client_count} */
export function renderInfo(body: unknown, nowMs: number): string {
  const o = asObject(body);
  const s = asObject(o['stream']);
  const failovers = strings(s, 'failover_urls');
  const clients = asObjects(o['clients']);
  const fields = formatFields([
    ['Stream', str(s, 'stream_id')],
    ['Type', str(s, 'stream_type')],
    ['Active', cell.yesNo(s['is_active'])],
    ['Original URL', str(s, 'original_url')],
    ['Current URL', `${cell.text(str(s, 'current_url'))} (URL ${urlPosition(s)})`],
    ['Failover URLs', failovers.length === 0 ? 'none' : failovers.join('\n')],
    ['User agent', str(s, 'user_agent')],
    ['Clients', cell.int(num(o, 'client_count') ?? num(s, 'client_count'))],
    ['Bytes served', cell.bytes(num(s, 'total_bytes_served'))],
    ['Segments', cell.int(num(s, 'total_segments_served'))],
    ['Errors', cell.int(num(s, 'error_count'))],
    ['Failovers', cell.int(num(s, 'failover_count'))],
    ['Created', formatTime(str(s, 'created_at'))],
    ['Last access', formatAgo(str(s, 'last_access'), nowMs)],
    ['Metadata', metadataText(s['metadata'])],
  ]);
  return clients.length === 0 ? `${fields}\n\nNo clients.` : `${fields}\n\n${clientsTable(clients, nowMs, false)}`;
}

/** POST /streams → {stream_id, stream_type, playlist_url, ...}; endpoints become absolute on the server's URL. */
export function renderCreated(body: unknown, serverUrl: string): string {
  const o = asObject(body);
  const endpoint = str(o, 'playlist_url') ?? str(o, 'stream_endpoint');
  const failovers = strings(o, 'failover_urls');
  return formatFields([
    ['Stream', str(o, 'stream_id')],
    ['Type', str(o, 'stream_type')],
    ['Play', endpoint === undefined ? undefined : new URL(endpoint, serverUrl + '/').href],
    ['Primary URL', str(o, 'primary_url')],
    ['Failover URLs', failovers.length === 0 ? undefined : failovers.join(', ')],
    ['User agent', str(o, 'user_agent')],
    ['Metadata', metadataText(o['metadata'])],
    ['Message', str(o, 'message')],
  ]);
}

/** POST /streams/{id}/failover → {message, new_url, failover_index} */
export function renderFailover(body: unknown): string {
  const o = asObject(body);
  const index = num(o, 'failover_index');
  const which = index === undefined ? '' : index === 0 ? ' (primary)' : ` (failover ${index})`;
  return `${cell.text(str(o, 'message'))}: now on ${cell.text(str(o, 'new_url'))}${which}`;
}

function proxyStatsFields(o: JsonObject): string {
  return formatFields([
    ['Uptime', formatDuration(num(o, 'uptime_seconds') ?? NaN)],
    ['Streams', `${cell.int(num(o, 'total_streams'))} (${cell.int(num(o, 'active_streams'))} active)`],
    ['Clients', `${cell.int(num(o, 'total_clients'))} (${cell.int(num(o, 'active_clients'))} active)`],
    ['Bytes served', cell.bytes(num(o, 'total_bytes_served'))],
    ['Segments served', cell.int(num(o, 'total_segments_served'))],
  ]);
}

/** GET /stats → ProxyStats at top level plus streams and clients. */
export function renderStats(body: unknown, nowMs: number): string {
  const o = asObject(body);
  const streams = asObjects(o['streams']);
  const clients = asObjects(o['clients']);
  return [
    proxyStatsFields(o),
    streams.length === 0 ? 'No streams.' : `Streams:\n${streamsTable(streams)}`,
    clients.length === 0 ? 'No clients.' : `Clients:\n${clientsTable(clients, nowMs, true)}`,
  ].join('\n\n');
}

/** GET /health → {status, version, uptime_seconds, active_streams, active_clients, total_bytes_served, stats} */
export function renderHealth(body: unknown): string {
  const o = asObject(body);
  return formatFields([
    ['Status', cell.text(str(o, 'status'))],
    ['Version', str(o, 'version')],
    ['Uptime', formatDuration(num(o, 'uptime_seconds') ?? NaN)],
    ['Active streams', cell.int(num(o, 'active_streams'))],
    ['Active clients', cell.int(num(o, 'active_clients'))],
    ['Bytes served', cell.bytes(num(o, 'total_bytes_served'))],
  ]);
}

/** GET /webhooks → {webhooks: [{url, events, timeout, retry_attempts}]} */
export function renderWebhooks(body: unknown): string {
  const hooks = asObjects(asObject(body)['webhooks']);
  if (hooks.length === 0) return 'No webhooks.';
  return formatTable(
    [{ title: 'url' }, { title: 'events' }, { title: 'timeout', align: 'right' }, { title: 'retries', align: 'right' }],
    hooks.map((h) => {
      const events = strings(h, 'events');
      const timeout = num(h, 'timeout');
      return [
        cell.text(str(h, 'url')),
        events.length === 0 ? 'all' : events.join(','),
        timeout === undefined ? '-' : `${timeout}s`,
        cell.int(num(h, 'retry_attempts')),
      ];
    }),
  );
}
