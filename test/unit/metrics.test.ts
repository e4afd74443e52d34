// services/metrics.ts with stub sources: upstream sockets and errors, webhook counts, request histogram, lifecycle.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEventBus } from '../../src/core/events.ts';
import { MemoryRegistry } from '../../src/core/registry.ts';
import { createMetrics } from '../../src/services/metrics.ts';
import { assertHistogram, parseExposition } from '../helpers/prom-text.ts';

function setup(extra: Partial<Parameters<typeof createMetrics>[0]> = {}) {
  const registry = new MemoryRegistry(() => 1_700_000_000_000);
  const bus = createEventBus();
  const metrics = createMetrics({ registry, bus, version: '9.9.9', startedAt: registry.now(), ...extra });
  return { registry, bus, metrics };
}

test('upstream sockets per host and errors by kind come from the optional source', () => {
  const { metrics } = setup({
    upstream: {
      sockets: () => [{ host: 'cdn.example:443', open: 3, free: 1 }],
      errors: () => ({ timeout: 2, refused: 1 }),
    },
  });
  const families = parseExposition(metrics.render());
  assert.deepEqual(families.get('m3u_proxy_upstream_connections_open')?.samples, [
    { name: 'm3u_proxy_upstream_connections_open', labels: { host: 'cdn.example:443' }, value: 3 },
  ]);
  assert.equal(families.get('m3u_proxy_upstream_connections_free')?.samples[0]?.value, 1);
  const errors = families.get('m3u_proxy_upstream_errors_total')?.samples.map((s) => [s.labels['kind'], s.value]);
  assert.deepEqual(errors, [['timeout', 2], ['refused', 1]]);
});

test('without sources the families are still declared, with no samples', () => {
  const families = parseExposition(setup().metrics.render());
  for (const name of ['m3u_proxy_upstream_connections_open', 'm3u_proxy_upstream_errors_total', 'm3u_proxy_webhook_deliveries_total']) {
    assert.deepEqual(families.get(name)?.samples, [], name);
  }
  assert.equal(families.has('m3u_proxy_webhook_queue_depth'), false);
});

test('webhook deliveries, failures, drops and queue depth', () => {
  const { metrics } = setup({ webhooks: { metrics: () => ({ delivered: 5, failed: 2, dropped: 1, queued: 4 }) } });
  const families = parseExposition(metrics.render());
  const deliveries = families.get('m3u_proxy_webhook_deliveries_total')?.samples.map((s) => [s.labels['result'], s.value]);
  assert.deepEqual(deliveries, [['success', 5], ['failure', 2]]);
  assert.equal(families.get('m3u_proxy_webhook_dropped_total')?.samples[0]?.value, 1);
  assert.equal(families.get('m3u_proxy_webhook_queue_depth')?.samples[0]?.value, 4);
});

test('request durations land in the right buckets per route and status', () => {
  const { metrics } = setup();
  metrics.observeRequest('/streams', 200, 3);
  metrics.observeRequest('/streams', 200, 40);
  metrics.observeRequest('/streams/:id', 404, 1);
  const family = parseExposition(metrics.render()).get('m3u_proxy_http_request_duration_seconds');
  assert.ok(family);
  assertHistogram(family);
  const bucket = (route: string, code: string, le: string) =>
    family.samples.find((s) => s.name.endsWith('_bucket') && s.labels['route'] === route && s.labels['code'] === code && s.labels['le'] === le)?.value;
  assert.equal(bucket('/streams', '200', '0.005'), 1);
  assert.equal(bucket('/streams', '200', '0.05'), 2);
  assert.equal(bucket('/streams/:id', '404', '+Inf'), 1);
  const sum = family.samples.find((s) => s.name.endsWith('_sum') && s.labels['route'] === '/streams');
  assert.ok(Math.abs((sum?.value ?? 0) - 0.043) < 1e-9, 'the sum is in seconds');
});

test('events are counted only between start() and stop()', () => {
  const { bus, metrics } = setup();
  const count = () =>
    parseExposition(metrics.render()).get('m3u_proxy_failovers_total')?.samples[0]?.value;
  bus.emit('failover_triggered', 'a', { metadata: {} });
  assert.equal(count(), 0);
  metrics.start();
  metrics.start();
  bus.emit('failover_triggered', 'a', { metadata: {} });
  assert.equal(count(), 1, 'a second start() does not subscribe twice');
  metrics.stop();
  bus.emit('failover_triggered', 'a', { metadata: {} });
  assert.equal(count(), 1);
  metrics.stop();
});

test('build info carries the version; event-loop lag has no samples before the monitor ran', () => {
  const families = parseExposition(setup().metrics.render());
  assert.equal(families.get('m3u_proxy_build_info')?.samples[0]?.labels['version'], '9.9.9');
  assert.deepEqual(families.get('m3u_proxy_event_loop_lag_seconds')?.samples, []);
});

test('event-loop lag: the monitor starts at the first scrape after start(), and the next scrape has its figures', async () => {
  const { metrics } = setup();
  metrics.start();
  try {
    const lag = () => parseExposition(metrics.render()).get('m3u_proxy_event_loop_lag_seconds')?.samples ?? [];
    assert.deepEqual(lag(), [], 'nothing measured before the first scrape');
    // The monitor samples every 20 ms; wait until it has (bounded: 100 × 20 ms).
    let samples = lag();
    for (let i = 0; i < 100 && samples.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      samples = lag();
    }
    assert.deepEqual(samples.map((s) => s.labels['stat']), ['mean', 'p50', 'p99', 'max']);
  } finally {
    metrics.stop();
  }
});
