// SPEC §7 GET /metrics on the real app: token, content type, a strictly well-formed exposition, counters that only grow.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertHistogram, parseExposition, seriesKey, type ParsedFamily } from '../helpers/prom-text.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const TOKEN = 'metrics-token';
const AUTH = { 'x-api-token': TOKEN };

async function scrape(base: string): Promise<Map<string, ParsedFamily>> {
  const res = await fetch(`${base}/metrics`, { headers: AUTH });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

function value(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    const hit = family.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (hit) return hit.value;
  }
  return undefined;
}

test('§4 /metrics is a management endpoint: 401 without the token, 403 with a wrong one', async (t) => {
  const { base } = await startProxy(t, { apiToken: TOKEN });
  assert.equal((await api(base, 'GET', '/metrics')).status, 401);
  assert.equal((await api(base, 'GET', '/metrics', undefined, { 'x-api-token': 'nope' })).status, 403);
  assert.equal((await fetch(`${base}/metrics?api_token=${TOKEN}`).then(async (r) => (await r.text(), r.status))), 200);
});

test('§7 every family has HELP and TYPE, every line parses, the documented families are there', async (t) => {
  const { base } = await startProxy(t, { apiToken: TOKEN });
  const families = await scrape(base);
  for (const name of [
    'm3u_proxy_streams',
    'm3u_proxy_active_streams',
    'm3u_proxy_clients',
    'm3u_proxy_bytes_served_total',
    'm3u_proxy_segments_served_total',
    'm3u_proxy_failovers_total',
    'm3u_proxy_upstream_connections_open',
    'm3u_proxy_upstream_connections_free',
    'm3u_proxy_upstream_errors_total',
    'm3u_proxy_webhook_deliveries_total',
    'm3u_proxy_webhook_dropped_total',
    'm3u_proxy_http_request_duration_seconds',
    'm3u_proxy_process_memory_bytes',
    'm3u_proxy_event_loop_lag_seconds',
  ]) {
    assert.ok(families.has(name), `family ${name}`);
  }
  assert.equal(families.get('m3u_proxy_bytes_served_total')?.type, 'counter');
  assert.equal(families.get('m3u_proxy_streams')?.type, 'gauge');
  assert.equal(families.get('m3u_proxy_http_request_duration_seconds')?.type, 'histogram');
  for (const f of families.values()) {
    if (f.type === 'counter') assert.ok(f.name.endsWith('_total'), `counter ${f.name} ends in _total`);
  }
  assert.ok((value(families, 'm3u_proxy_process_memory_bytes', { type: 'rss' }) ?? 0) > 0, 'rss is reported');
});

test('§7 counters only grow across two scrapes with traffic between; gauges follow the registry', async (t) => {
  const { base, app } = await startProxy(t, { apiToken: TOKEN });
  const first = await scrape(base);

  // Traffic: a stream with a failover URL, a client that receives bytes and a segment, a manual failover, API calls.
  const created = await api(base, 'POST', '/streams', { url: 'http://origin.invalid/live.ts', failover_urls: ['http://backup.invalid/live.ts'] }, AUTH);
  assert.equal(created.status, 200);
  const id = (created.body as { stream_id: string }).stream_id;
  const stream = app.registry.getStream(id);
  assert.ok(stream);
  const client = app.streams.touchHlsClient(stream, 'c-metrics', { ip: '127.0.0.1', userAgent: 'test "agent"\n', username: null });
  app.registry.addBytes(client, stream, 1234);
  app.registry.addSegment(client, stream);
  assert.equal((await api(base, 'POST', `/streams/${id}/failover`, undefined, AUTH)).status, 200);
  assert.equal((await api(base, 'GET', '/nope', undefined, AUTH)).status, 404);

  const second = await scrape(base);
  for (const f of first.values()) {
    if (f.type !== 'counter' && f.type !== 'histogram') continue;
    const later = new Map((second.get(f.name)?.samples ?? []).map((s) => [seriesKey(s), s.value]));
    for (const s of f.samples) {
      const now = later.get(seriesKey(s));
      assert.ok(now !== undefined, `series ${seriesKey(s)} still exported`);
      assert.ok(now >= s.value, `${seriesKey(s)} went from ${s.value} to ${now}`);
    }
  }
  const grew = (name: string, labels: Record<string, string> = {}) =>
    (value(second, name, labels) ?? 0) - (value(first, name, labels) ?? 0);
  assert.equal(grew('m3u_proxy_bytes_served_total'), 1234);
  assert.equal(grew('m3u_proxy_segments_served_total'), 1);
  assert.equal(grew('m3u_proxy_failovers_total'), 1);
  assert.equal(grew('m3u_proxy_events_total', { type: 'client_connected' }), 1);
  assert.equal(value(second, 'm3u_proxy_streams'), 1);
  assert.equal(value(second, 'm3u_proxy_active_streams'), 1);
  assert.equal(value(second, 'm3u_proxy_clients', { kind: 'hls' }), 1);

  const durations = second.get('m3u_proxy_http_request_duration_seconds');
  assert.ok(durations);
  assertHistogram(durations);
  // The first scrape itself is a finished request by the time of the second; 404s are labelled as unmatched routes.
  assert.ok((value(second, 'm3u_proxy_http_request_duration_seconds_count', { route: '/metrics', code: '200' }) ?? 0) >= 1);
  assert.equal(value(second, 'm3u_proxy_http_request_duration_seconds_count', { route: 'unmatched', code: '404' }), 1);
  assert.equal(value(second, 'm3u_proxy_http_request_duration_seconds_count', { route: '/streams', code: '200' }), 1);
});
