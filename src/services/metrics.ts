// Collects the figures behind GET /metrics (SPEC §7): registry gauges, event counters, request durations, process health.
// Other subsystems are read through optional typed sources that app.ts passes in, so this module depends on none of them.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { EVENT_TYPES, type EventBus, type EventType } from '../core/events.ts';
import { histogramSamples, renderMetrics, type HistogramSeries, type MetricFamily, type Sample } from '../core/metrics-text.ts';
import type { Registry } from '../core/registry.ts';

/** Sockets of the upstream Agent pools for one origin host. */
export interface UpstreamSocketCount {
  readonly host: string;
  /** Every open socket to the host, in use or idle. */
  readonly open: number;
  /** Idle keep-alive sockets waiting in the pool. */
  readonly free: number;
}

/** Read by each scrape; implemented by an adapter over core/upstream in app.ts. */
export interface UpstreamMetricsSource {
  sockets(): readonly UpstreamSocketCount[];
  /** Monotonic upstream failure counts by kind (e.g. timeout, refused, status, reset). */
  errors?(): Readonly<Record<string, number>>;
}

/** Monotonic webhook delivery counts plus the current queue depth, summed over all webhooks. */
export interface WebhookMetrics {
  readonly delivered: number;
  readonly failed: number;
  readonly dropped: number;
  readonly queued?: number;
}

export interface WebhookMetricsSource {
  metrics(): WebhookMetrics;
}

/** SPEC §5.5 figures of the shared live upstreams; implemented by sharing/live-share.ts. */
export interface SharingMetricsSource {
  /** Streams with a shared upstream now: its viewers and the bytes its ring holds. */
  figures(): readonly { streamId: string; viewers: number; retainedBytes: number }[];
  /** Upstream connections a stream holds now (shared or per player). */
  upstreamCount(streamId: string): number;
  totals(): Readonly<{ jumps: number; skippedBytes: number; viewerTimeouts: number; opened: number }>;
}

export interface MetricsDeps {
  registry: Registry;
  bus: EventBus;
  version: string;
  /** Live player connections (continuous streams and requests in flight). */
  connectionCount?: () => number;
  upstream?: UpstreamMetricsSource;
  webhooks?: WebhookMetricsSource;
  /** Durable state writes (SPEC §12), when a state file is kept. */
  state?: { stats(): { writes: number; failures: number } };
  sharing?: SharingMetricsSource;
  /** Log lines dropped because stderr failed (SPEC §15). */
  logDropped?: () => number;
  /** SPEC §13: transcode and resolver processes running now. */
  transcodeProcesses?: () => number;
  /** Epoch ms the app started. */
  startedAt: number;
}

/** Request durations in seconds: API calls and segments at the low end, whole continuous sessions at the top. */
export const REQUEST_DURATION_BOUNDS_S: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200];

/** A fixed-bucket histogram; one instance per label set. */
class Histogram {
  readonly counts: number[];
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] ?? Infinity)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += value;
  }
}

export interface MetricsService {
  /** The http server's onRequestDone hook; cheap, called for every request. */
  observeRequest(route: string, status: number, durationMs: number): void;
  /** Subscribes to events and enables the event-loop monitor; idempotent. */
  start(): void;
  /** Undoes start(); idempotent. */
  stop(): void;
  collect(): MetricFamily[];
  render(): string;
}

export function createMetrics(deps: MetricsDeps): MetricsService {
  const { registry } = deps;
  // Keyed by `${route}\n${status}`: both come from bounded sets (route patterns, HTTP statuses).
  const requests = new Map<string, { route: string; code: string; histogram: Histogram }>();
  const events = new Map<EventType, number>(EVENT_TYPES.map((t) => [t, 0]));
  let unsubscribe: (() => void) | undefined;
  let loopDelay: IntervalHistogram | undefined;

  function counter(name: string, help: string, samples: Sample[]): MetricFamily {
    return { name, help, type: 'counter', samples };
  }
  function gauge(name: string, help: string, samples: Sample[]): MetricFamily {
    return { name, help, type: 'gauge', samples };
  }

  function registryFamilies(): MetricFamily[] {
    let active = 0;
    for (const s of registry.streams()) if (registry.clientCount(s.id) > 0) active++;
    const byKind = { hls: 0, continuous: 0 };
    for (const c of registry.clients()) byKind[c.kind]++;
    const families = [
      gauge('m3u_proxy_streams', 'Registered streams.', [{ value: registry.streamCount() }]),
      gauge('m3u_proxy_active_streams', 'Streams with at least one client now.', [{ value: active }]),
      gauge('m3u_proxy_clients', 'Client sessions now, by kind.', [
        { labels: { kind: 'hls' }, value: byKind.hls },
        { labels: { kind: 'continuous' }, value: byKind.continuous },
      ]),
      counter('m3u_proxy_client_evictions_total', 'Idle HLS client records evicted to stay within MAX_CLIENTS_PER_STREAM / MAX_CLIENTS.', [
        { value: registry.clientEvictions },
      ]),
      counter('m3u_proxy_bytes_served_total', 'Bytes written to players.', [{ value: registry.totalBytesServed }]),
      counter('m3u_proxy_segments_served_total', 'HLS segments served to players.', [{ value: registry.totalSegmentsServed }]),
      counter(
        'm3u_proxy_failovers_total',
        'Switches of a stream to another URL, automatic or manual.',
        [{ value: events.get('failover_triggered') ?? 0 }],
      ),
      counter(
        'm3u_proxy_events_total',
        'Proxy events emitted, by type.',
        [...events].map(([type, value]) => ({ labels: { type }, value })),
      ),
    ];
    if (deps.connectionCount) {
      families.push(gauge('m3u_proxy_player_connections', 'Open player connections that the proxy can abort.', [{ value: deps.connectionCount() }]));
    }
    if (deps.transcodeProcesses) {
      families.push(gauge('m3u_proxy_transcode_processes', 'Transcode and resolver processes running now (TRANSCODE_MAX_PROCESSES bounds them).', [{ value: deps.transcodeProcesses() }]));
    }
    return families;
  }

  function upstreamFamilies(): MetricFamily[] {
    const sockets = deps.upstream?.sockets() ?? [];
    const errors = deps.upstream?.errors?.() ?? {};
    return [
      gauge('m3u_proxy_upstream_connections_open', 'Open sockets to upstream hosts (in use or idle).',
        sockets.map((s) => ({ labels: { host: s.host }, value: s.open }))),
      gauge('m3u_proxy_upstream_connections_free', 'Idle keep-alive sockets to upstream hosts.',
        sockets.map((s) => ({ labels: { host: s.host }, value: s.free }))),
      counter('m3u_proxy_upstream_errors_total', 'Upstream request failures, by kind.',
        Object.entries(errors).map(([kind, value]) => ({ labels: { kind }, value }))),
    ];
  }

  function sharingFamilies(): MetricFamily[] {
    const s = deps.sharing;
    if (!s) return [];
    const totals = s.totals();
    const figures = s.figures();
    const perStream: Sample[] = [];
    // Every stream with a client: its provider connections (SPEC §5.5: one for all viewers of a shared live stream).
    for (const stream of registry.streams()) {
      if (registry.clientCount(stream.id) > 0) perStream.push({ labels: { stream_id: stream.id }, value: s.upstreamCount(stream.id) });
    }
    return [
      gauge('m3u_proxy_stream_upstream_connections', 'Upstream connections a stream with clients holds now.', perStream),
      gauge('m3u_proxy_shared_stream_viewers', 'Viewers fed by a stream\'s shared live upstream now.',
        figures.map((f) => ({ labels: { stream_id: f.streamId }, value: f.viewers }))),
      gauge('m3u_proxy_shared_queue_bytes', 'Bytes held by a shared live upstream\'s ring (the join buffer and slow viewers\' backlog).',
        figures.map((f) => ({ labels: { stream_id: f.streamId }, value: f.retainedBytes }))),
      counter('m3u_proxy_shared_upstreams_opened_total', 'Shared live upstreams opened.', [{ value: totals.opened }]),
      counter('m3u_proxy_shared_viewer_jumps_total', 'Viewers that fell behind the queue bound and jumped to the live edge.', [{ value: totals.jumps }]),
      counter('m3u_proxy_shared_skipped_bytes_total', 'Bytes passed over by those jumps.', [{ value: totals.skippedBytes }]),
      counter('m3u_proxy_shared_viewer_timeouts_total', 'Viewers cut because they read nothing for the read timeout.', [{ value: totals.viewerTimeouts }]),
    ];
  }

  function webhookFamilies(): MetricFamily[] {
    const w = deps.webhooks?.metrics();
    const families = [
      counter('m3u_proxy_webhook_deliveries_total', 'Webhook deliveries, by result (a failure has used up its retries).',
        w ? [{ labels: { result: 'success' }, value: w.delivered }, { labels: { result: 'failure' }, value: w.failed }] : []),
      counter('m3u_proxy_webhook_dropped_total', 'Webhook events dropped because a queue was full.', w ? [{ value: w.dropped }] : []),
    ];
    if (w?.queued !== undefined) families.push(gauge('m3u_proxy_webhook_queue_depth', 'Webhook events waiting for delivery.', [{ value: w.queued }]));
    return families;
  }

  function stateFamilies(): MetricFamily[] {
    const s = deps.state?.stats();
    if (s === undefined) return [];
    return [
      counter('m3u_proxy_state_writes_total', 'State file writes (each one fsynced; concurrent changes share one).', [{ value: s.writes }]),
      counter('m3u_proxy_state_write_failures_total', 'State file writes that failed (the changes they carried were answered with an error).', [{ value: s.failures }]),
    ];
  }

  function requestFamily(): MetricFamily {
    const series: HistogramSeries[] = [...requests.values()].map((r) => ({
      labels: { route: r.route, code: r.code },
      bounds: r.histogram.bounds,
      counts: r.histogram.counts,
      sum: r.histogram.sum,
    }));
    return {
      name: 'm3u_proxy_http_request_duration_seconds',
      help: 'Time from request to the end of the response, by route pattern and status (streams count their whole session).',
      type: 'histogram',
      samples: histogramSamples(series),
    };
  }

  function processFamilies(): MetricFamily[] {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const families = [
      gauge('m3u_proxy_process_memory_bytes', 'Process memory, by type (process.memoryUsage()).', [
        { labels: { type: 'rss' }, value: mem.rss },
        { labels: { type: 'heap_total' }, value: mem.heapTotal },
        { labels: { type: 'heap_used' }, value: mem.heapUsed },
        { labels: { type: 'external' }, value: mem.external },
        { labels: { type: 'array_buffers' }, value: mem.arrayBuffers },
      ]),
      counter('m3u_proxy_log_writes_dropped_total', 'Log lines dropped because the log destination failed (its reader gone).', [{ value: deps.logDropped?.() ?? 0 }]),
      counter('m3u_proxy_process_cpu_seconds_total', 'CPU time used by the process, user plus system.', [{ value: (cpu.user + cpu.system) / 1e6 }]),
      gauge('m3u_proxy_start_time_seconds', 'Start time of the proxy, seconds since the epoch.', [{ value: deps.startedAt / 1000 }]),
      gauge('m3u_proxy_build_info', 'Always 1; the labels carry the versions.', [{ labels: { version: deps.version, node: process.version }, value: 1 }]),
    ];
    const lag: Sample[] = [];
    // The monitor's figures cover the time since the previous scrape; with no sample yet there is nothing to say.
    // It starts at the first scrape: a server nobody scrapes keeps neither its 20 ms timer nor its histogram's memory
    // (360 KB of native memory, issue 24.7).
    if (unsubscribe !== undefined && !loopDelay) {
      loopDelay = monitorEventLoopDelay({ resolution: 20 });
      loopDelay.enable();
    }
    if (loopDelay && loopDelay.count > 0) {
      lag.push(
        { labels: { stat: 'mean' }, value: loopDelay.mean / 1e9 },
        { labels: { stat: 'p50' }, value: loopDelay.percentile(50) / 1e9 },
        { labels: { stat: 'p99' }, value: loopDelay.percentile(99) / 1e9 },
        { labels: { stat: 'max' }, value: loopDelay.max / 1e9 },
      );
      loopDelay.reset();
    }
    families.push(gauge('m3u_proxy_event_loop_lag_seconds', 'Event-loop delay since the previous scrape (perf_hooks.monitorEventLoopDelay).', lag));
    return families;
  }

  function collect(): MetricFamily[] {
    return [...registryFamilies(), ...upstreamFamilies(), ...sharingFamilies(), ...webhookFamilies(), ...stateFamilies(), requestFamily(), ...processFamilies()];
  }

  return {
    observeRequest(route, status, durationMs) {
      const key = `${route}\n${status}`;
      let entry = requests.get(key);
      if (!entry) {
        entry = { route, code: String(status), histogram: new Histogram(REQUEST_DURATION_BOUNDS_S) };
        requests.set(key, entry);
      }
      entry.histogram.observe(Math.max(0, durationMs) / 1000);
    },
    start() {
      unsubscribe ??= deps.bus.subscribe((event) => {
        events.set(event.event_type, (events.get(event.event_type) ?? 0) + 1);
      });
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      loopDelay?.disable();
      loopDelay = undefined;
    },
    collect,
    render: () => renderMetrics(collect()),
  };
}
