// Events and webhooks end to end (SPEC §6, §8): a real proxy, a real origin and real webhook receivers on 127.0.0.1:0.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { createApp, type App, type AppOptions } from '../../src/app.ts';
import { VERSION, type Config } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { DEFAULT_CONCURRENCY, laneOf } from '../../src/services/events/webhook-queue.ts';
import { streamIdFor } from '../../src/services/streams.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, testConfig } from '../helpers/start-proxy.ts';
import { startReceiver, verifySignature, type Receiver } from '../helpers/webhook-receiver.ts';

const SECRET = 'whsec-test';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Harness {
  app: App;
  base: string;
  /** The registry's clock: moves only when a test advances it. */
  advance(ms: number): void;
}

/** The real app with a manual registry clock and millisecond retry back-off; closed in t.after. */
async function start(t: TestContext, overrides: Partial<Config> = {}, options: Partial<AppOptions> = {}): Promise<Harness> {
  let clock = Date.now();
  const app = createApp(testConfig({ webhookSecret: SECRET, ...overrides }), {
    logger: silentLogger,
    now: () => clock,
    webhookRetryBaseMs: 1,
    ...options,
  });
  t.after(() => app.close(100));
  const port = await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${port}`, advance: (ms) => (clock += ms) };
}

async function addWebhook(base: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<void> {
  const r = await api(base, 'POST', '/webhooks', body, headers);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

async function createStream(base: string, body: Record<string, unknown>): Promise<string> {
  const r = await api(base, 'POST', '/streams', body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body as { stream_id: string }).stream_id;
}

function counts(rx: Receiver): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of rx.accepted()) out[d.event.event_type] = (out[d.event.event_type] ?? 0) + 1;
  return out;
}

test('§6 lifecycle: every event once per transition, with its payload, signed', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live' }, '/backup.ts': { kind: 'live' } });
  const rx = await startReceiver(t);
  const h = await start(t);
  await addWebhook(h.base, { url: rx.url });

  // Stream created (twice: the second create updates, it is not a new stream).
  const body = { url: origin.url('/live.ts'), failover_urls: [origin.url('/backup.ts')], metadata: { id: 7 } };
  const id = await createStream(h.base, body);
  await createStream(h.base, body);
  await rx.until(() => rx.ofType('stream_started').length === 1, 'stream_started');
  const started = rx.ofType('stream_started')[0];
  assert.ok(started);
  assert.match(started.event.event_id, UUID);
  assert.match(started.event.timestamp, ISO_Z);
  assert.equal(started.event.stream_id, id);
  assert.deepEqual(started.event.data.metadata, { id: '7' });
  assert.equal(started.event.data['primary_url'], origin.url('/live.ts'));
  assert.equal(started.headers['user-agent'], `m3u-proxy-webhook/${VERSION}`);
  assert.equal(started.headers['x-m3u-proxy-event'], 'stream_started');
  assert.equal(started.headers['content-type'], 'application/json');

  // A continuous session through GET /stream/{id}, a manual failover while it plays, then the player leaves.
  const player = await openPlayer(t, `${h.base}/stream/${id}?client_id=viewer-1`);
  await player.waitBytes(1);
  await rx.until(() => rx.ofType('client_connected').length === 1, 'client_connected');
  const failover = await api(h.base, 'POST', `/streams/${id}/failover`);
  assert.equal(failover.status, 200);
  await rx.until(() => rx.ofType('failover_triggered').length === 1, 'failover_triggered');
  player.leave();
  await rx.until(() => rx.ofType('client_disconnected').length === 1, 'client_disconnected');

  const connected = rx.ofType('client_connected')[0]?.event;
  assert.equal(connected?.data['client_id'], 'viewer-1');
  assert.deepEqual(connected?.data.metadata, { id: '7' });
  const switched = rx.ofType('failover_triggered')[0]?.event;
  assert.equal(switched?.data['old_url'], origin.url('/live.ts'));
  assert.equal(switched?.data['new_url'], origin.url('/backup.ts'));
  assert.equal(switched?.data['failover_index'], 1);
  assert.equal(switched?.data['reason'], 'manual');
  const left = rx.ofType('client_disconnected')[0]?.event;
  assert.equal(left?.data['client_id'], 'viewer-1');
  assert.equal(left?.data['reason'], 'closed');
  // The last viewer leaving stops the stream at once (SPEC §6); the next viewer starts it again.
  await rx.until(() => rx.ofType('stream_stopped').length === 1, 'stream_stopped when the last viewer left');
  assert.equal(rx.ofType('stream_stopped')[0]?.event.data['reason'], 'last_client_disconnected');

  // DELETE with a player connected: its client_disconnected, then stream_stopped.
  const second = await openPlayer(t, `${h.base}/stream/${id}?client_id=viewer-2`);
  await second.waitBytes(1);
  await rx.until(() => rx.ofType('client_connected').length === 2, 'second client_connected');
  assert.equal(rx.ofType('stream_started').length, 2, 'started again by its next viewer');
  assert.equal((await api(h.base, 'DELETE', `/streams/${id}`)).status, 200);
  await rx.until(() => rx.ofType('stream_stopped').length === 2, 'stream_stopped on delete');
  assert.deepEqual(await second.done, { complete: false });
  const kicked = rx.ofType('client_disconnected')[1]?.event;
  assert.equal(kicked?.data['client_id'], 'viewer-2');
  assert.equal(kicked?.data['reason'], 'deleted');
  assert.equal(rx.ofType('stream_stopped')[1]?.event.data['reason'], 'manual_deletion');

  // An HLS client: connected once however many requests it makes; when it times out, its stream stops at once, and the
  // sweep of the idle stream later sends nothing more. A stream nobody watched is swept with inactive_timeout.
  const hlsId = await createStream(h.base, { url: origin.url('/channel.m3u8') });
  const idleId = await createStream(h.base, { url: origin.url('/nobody.m3u8') });
  const hls = h.app.streams.get(hlsId);
  const info = { userAgent: 'VLC/3.0', ip: '127.0.0.1', username: null };
  h.app.streams.touchHlsClient(hls, 'hls-viewer', info);
  h.app.streams.touchHlsClient(hls, 'hls-viewer', info);
  h.advance(h.app.config.clientTimeoutMs);
  assert.deepEqual(h.app.sweeper.sweep(), { clients: 1, streams: 0 });
  h.advance(h.app.config.streamTimeoutMs);
  assert.deepEqual(h.app.sweeper.sweep(), { clients: 0, streams: 2 });
  await rx.until(() => rx.ofType('stream_stopped').length === 4 && rx.ofType('client_disconnected').length === 3, 'the sweeper\'s events');
  // Events of one stream arrive in order; two streams' events go over separate lanes, so they are matched by stream.
  const swept = rx.ofType('client_disconnected').find((d) => d.event.stream_id === hlsId)?.event;
  assert.equal(swept?.data['reason'], 'timeout');
  const stopOf = (streamId: string): unknown => rx.ofType('stream_stopped').find((d) => d.event.stream_id === streamId)?.event.data['reason'];
  assert.equal(stopOf(hlsId), 'last_client_disconnected');
  assert.equal(stopOf(idleId), 'inactive_timeout');

  // Every transition has been delivered by now (the waits above), and none twice.
  assert.deepEqual(counts(rx), {
    stream_started: 4,
    client_connected: 3,
    failover_triggered: 1,
    client_disconnected: 3,
    stream_stopped: 4,
  });
  for (const d of rx.deliveries) {
    assert.ok(verifySignature(SECRET, d.raw, d.headers['x-m3u-proxy-signature'] as string | undefined), `signature of ${d.event.event_type}`);
    assert.equal(d.headers['x-m3u-proxy-event'], d.event.event_type);
  }
  assert.equal(verifySignature('another-secret', rx.deliveries[0]?.raw ?? '', rx.deliveries[0]?.headers['x-m3u-proxy-signature'] as string), false);
});

test('§6 without WEBHOOK_SECRET no signature header is sent; an event filter is honoured', async (t) => {
  const rx = await startReceiver(t);
  const h = await start(t, { webhookSecret: undefined });
  await addWebhook(h.base, { url: rx.url, events: ['stream_stopped'], headers: { 'X-Signature-Forged': 'x', Authorization: 'Bearer abc' } });
  const id = await createStream(h.base, { url: 'http://127.0.0.1:9/a.ts' });
  assert.equal((await api(h.base, 'DELETE', `/streams/${id}`)).status, 200);
  await rx.until(() => rx.accepted().length === 1, 'stream_stopped');
  const d = rx.deliveries[0];
  assert.equal(d?.event.event_type, 'stream_stopped');
  assert.equal(d?.headers['x-m3u-proxy-signature'], undefined);
  assert.equal(d?.headers['authorization'], 'Bearer abc', 'custom headers are sent');
});

test('§6 a 500 is retried with back-off until the webhook accepts; retries and deliveries are counted', async (t) => {
  const rx = await startReceiver(t, { kind: 'fail', times: 2 });
  const h = await start(t);
  await addWebhook(h.base, { url: rx.url, retry_attempts: 3 });
  await createStream(h.base, { url: 'http://127.0.0.1:9/a.ts' });
  await rx.until(() => rx.accepted().length === 1, 'the third attempt');
  assert.deepEqual(rx.deliveries.map((d) => d.status), [500, 500, 200]);
  const ids = new Set(rx.deliveries.map((d) => d.event.event_id));
  assert.equal(ids.size, 1, 'every attempt carries the same event');
  await waitFor(() => h.app.webhooks.stats().delivered === 1, 2_000, 'delivered counter');
  assert.deepEqual(h.app.webhooks.stats(), { delivered: 1, failed: 0, dropped: 0, retries: 2, queued: 0, webhooks: 1 });
});

test('§6 a webhook that keeps failing is given up after retry_attempts, and the next event still goes out', async (t) => {
  const rx = await startReceiver(t, { kind: 'fail', times: 2 });
  const h = await start(t);
  await addWebhook(h.base, { url: rx.url, retry_attempts: 1 });
  await createStream(h.base, { url: 'http://127.0.0.1:9/a.ts' });
  await waitFor(() => h.app.webhooks.stats().failed === 1, 2_000, 'failed counter');
  assert.equal(rx.deliveries.length, 2, 'one attempt and one retry');
  await createStream(h.base, { url: 'http://127.0.0.1:9/b.ts' });
  await rx.until(() => rx.accepted().length === 1, 'the next event');
  assert.equal(rx.accepted()[0]?.event.data['primary_url'], 'http://127.0.0.1:9/b.ts');
});

test('§6 each attempt is bounded by the webhook timeout: a silent receiver costs one timeout per attempt, then a failure', async (t) => {
  const stuck = await startReceiver(t, { kind: 'hang' });
  const h = await start(t);
  await addWebhook(h.base, { url: stuck.url, timeout: 0.05, retry_attempts: 1 });
  await createStream(h.base, { url: 'http://127.0.0.1:9/a.ts' });
  await waitFor(() => h.app.webhooks.stats().failed === 1, 5_000, 'failed after two timed-out attempts');
  assert.equal(stuck.deliveries.length, 2);
  assert.deepEqual(h.app.webhooks.metrics(), { delivered: 0, failed: 1, dropped: 0, queued: 0 });
});

test('§6 success is the 2xx status: a receiver that answers 200 and keeps its body open gets the event once', async (t) => {
  const rx = await startReceiver(t, { kind: 'open-body' });
  const h = await start(t);
  await addWebhook(h.base, { url: rx.url, timeout: 0.2, retry_attempts: 2 });
  await createStream(h.base, { url: 'http://127.0.0.1:9/a.ts' });
  await waitFor(() => h.app.webhooks.stats().delivered === 1, 5_000, 'delivered');
  // Waiting for the end of its body, each attempt timed out and the event went out again (3 times, then "failed").
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(rx.ofType('stream_started').length, 1);
  assert.deepEqual(h.app.webhooks.metrics(), { delivered: 1, failed: 0, dropped: 0, queued: 0 });
});

test('§6 a never-answering webhook does not delay a healthy one, requests, or shutdown', async (t) => {
  const stuck = await startReceiver(t, { kind: 'hang' });
  const healthy = await startReceiver(t);
  const h = await start(t);
  await addWebhook(h.base, { url: stuck.url, timeout: 300 });
  await addWebhook(h.base, { url: healthy.url });
  const urls = Array.from({ length: 5 }, (_, i) => `http://127.0.0.1:9/${i}.ts`);
  for (const url of urls) await createStream(h.base, { url });
  await healthy.until(() => healthy.accepted().length === 5, 'all five events at the healthy webhook');
  // Each stuck lane is still on its first event (one lane per stream id hash): the healthy one got everything meanwhile.
  const lanes = new Set(urls.map((u) => laneOf(streamIdFor(u), DEFAULT_CONCURRENCY))).size;
  await stuck.until(() => stuck.deliveries.length === lanes, 'one held attempt per busy lane');
  assert.ok(stuck.deliveries.every((d) => d.status === 'held'));
  const list = await api(h.base, 'GET', '/webhooks');
  assert.equal(list.status, 200, 'management requests are answered meanwhile');
  const stuckView = (list.body as { webhooks: Array<{ url: string; stats: { queued: number } }> }).webhooks.find((w) => w.url === stuck.url);
  assert.equal(stuckView?.stats.queued, 5 - lanes);
  // Shutdown aborts the stuck delivery instead of waiting 300 s for it.
  await h.app.close(50);
  assert.equal(h.app.webhooks.stats().delivered, 5);
});

test('§6 each queue is bounded: the oldest events are dropped and counted', async (t) => {
  const stuck = await startReceiver(t, { kind: 'hang' });
  const h = await start(t, {}, { webhookMaxQueue: 3 });
  await addWebhook(h.base, { url: stuck.url, timeout: 300 });
  const urls = Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:9/${i}.ts`);
  for (const url of urls) h.app.streams.create({ url, failoverUrls: [], userAgent: null, headers: {}, metadata: {}, kind: 'direct' });
  // The first event of each busy lane went on the wire at once; of the rest only the newest three are kept.
  const lanes = new Set(urls.map((u) => laneOf(streamIdFor(u), DEFAULT_CONCURRENCY))).size;
  const dropped = 10 - lanes - 3;
  assert.ok(dropped > 0, 'the test needs more events than lanes plus the queue');
  assert.deepEqual(h.app.webhooks.stats(), { delivered: 0, failed: 0, dropped, retries: 0, queued: 3, webhooks: 1 });
  const metrics = await api(h.base, 'GET', '/metrics');
  assert.match(String(metrics.body), new RegExp(`^m3u_proxy_webhook_dropped_total ${dropped}$`, 'm'));
});

test('§6 routes: add, update, list without header values, test event, delete', async (t) => {
  const rx = await startReceiver(t);
  const h = await start(t);
  const added = await api(h.base, 'POST', '/webhooks', { url: rx.url, events: ['stream_stopped'], headers: { 'X-Auth': 'secret-value' } });
  assert.equal(added.status, 200);
  assert.deepEqual(added.body, { message: 'Webhook added successfully', webhook_url: rx.url, events: ['stream_stopped'], updated: false });

  // Re-adding the same URL updates it in place.
  const updated = await api(h.base, 'POST', '/webhooks', { url: rx.url, events: ['stream_stopped', 'stream_failed'], timeout: 5, retry_attempts: 0, headers: { 'X-Auth': 'secret-value' } });
  assert.equal((updated.body as { updated: boolean }).updated, true);
  const list = await api(h.base, 'GET', '/webhooks');
  assert.equal(list.status, 200);
  const hooks = (list.body as { webhooks: Array<Record<string, unknown>> }).webhooks;
  assert.equal(hooks.length, 1);
  assert.deepEqual({ ...hooks[0], stats: undefined }, {
    url: rx.url,
    events: ['stream_stopped', 'stream_failed'],
    timeout: 5,
    retry_attempts: 0,
    header_names: ['X-Auth'],
    stats: undefined,
  });
  assert.ok(!JSON.stringify(list.body).includes('secret-value'), 'header values are never listed');

  // The test event reaches this webhook even though its filter excludes stream_started.
  const sent = await api(h.base, 'POST', `/webhooks/test?webhook_url=${encodeURIComponent(rx.url)}`);
  assert.equal(sent.status, 200);
  const eventId = (sent.body as { event_id: string }).event_id;
  assert.match(eventId, UUID);
  await rx.until(() => rx.accepted().length === 1, 'test event');
  assert.equal(rx.deliveries[0]?.event.event_id, eventId);
  assert.equal(rx.deliveries[0]?.event.event_type, 'stream_started');
  assert.equal(rx.deliveries[0]?.event.data['test'], true);
  assert.equal(rx.deliveries[0]?.headers['x-auth'], 'secret-value');
  const viaBody = await api(h.base, 'POST', '/webhooks/test', { webhook_url: rx.url });
  assert.equal(viaBody.status, 200);

  const unknown = await api(h.base, 'POST', '/webhooks/test', { webhook_url: 'http://127.0.0.1:9/none' });
  assert.equal(unknown.status, 404);
  assert.equal((unknown.body as { code: string }).code, 'NOT_FOUND');

  // DELETE by query, then by JSON body; a second delete is a 404.
  const del = await api(h.base, 'DELETE', `/webhooks?webhook_url=${encodeURIComponent(rx.url)}`);
  assert.equal(del.status, 200);
  assert.equal(typeof (del.body as { message: string }).message, 'string');
  assert.equal((await api(h.base, 'DELETE', `/webhooks?webhook_url=${encodeURIComponent(rx.url)}`)).status, 404);
  await addWebhook(h.base, { url: rx.url });
  assert.equal((await api(h.base, 'DELETE', '/webhooks', { webhook_url: rx.url })).status, 200);
  assert.deepEqual((await api(h.base, 'GET', '/webhooks')).body, { webhooks: [] });
  assert.equal((await api(h.base, 'DELETE', '/webhooks')).status, 422, 'no webhook_url');
});

test('§6 routes: validation errors are 422, bad JSON 400', async (t) => {
  const h = await start(t);
  const bad: Array<[string, unknown]> = [
    ['no url', {}],
    ['not a URL', { url: 'not a url' }],
    ['ftp', { url: 'ftp://example.com/hook' }],
    ['unknown event', { url: 'http://127.0.0.1:9/h', events: ['stream_exploded'] }],
    ['empty events', { url: 'http://127.0.0.1:9/h', events: [] }],
    ['events not an array', { url: 'http://127.0.0.1:9/h', events: 'stream_started' }],
    ['negative timeout', { url: 'http://127.0.0.1:9/h', timeout: -1 }],
    ['string timeout', { url: 'http://127.0.0.1:9/h', timeout: '10' }],
    ['fractional retries', { url: 'http://127.0.0.1:9/h', retry_attempts: 1.5 }],
    ['header with CRLF', { url: 'http://127.0.0.1:9/h', headers: { 'X-A': 'a\r\nX-B: b' } }],
    ['header name', { url: 'http://127.0.0.1:9/h', headers: { 'bad name': 'v' } }],
    ['array body', [1, 2]],
  ];
  for (const [what, body] of bad) {
    const r = await api(h.base, 'POST', '/webhooks', body);
    assert.equal(r.status, 422, what);
    assert.equal((r.body as { code: string }).code, 'VALIDATION_ERROR', what);
  }
  const notJson = await api(h.base, 'POST', '/webhooks', '{"url":');
  assert.equal(notJson.status, 400);
  assert.equal((notJson.body as { code: string }).code, 'INVALID_JSON');
  assert.deepEqual((await api(h.base, 'GET', '/webhooks')).body, { webhooks: [] });
});

test('§4 the webhook routes need the API token when one is set', async (t) => {
  const h = await start(t, { apiToken: 'tok' });
  const body = { url: 'http://127.0.0.1:9/h' };
  for (const [method, path] of [['POST', '/webhooks'], ['GET', '/webhooks'], ['DELETE', '/webhooks'], ['POST', '/webhooks/test']] as const) {
    const r = await api(h.base, method, path, method === 'GET' ? undefined : body);
    assert.equal(r.status, 401, `${method} ${path}`);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  }
  assert.equal((await api(h.base, 'POST', '/webhooks', body, { 'x-api-token': 'wrong' })).status, 403);
  assert.equal((await api(h.base, 'POST', '/webhooks', body, { 'X-API-Token': 'tok' })).status, 200);
  assert.equal((await api(h.base, 'GET', '/webhooks?api_token=tok')).status, 200);
});
