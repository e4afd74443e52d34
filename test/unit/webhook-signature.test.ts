// services/webhooks.ts signing and headers (SPEC §6): HMAC-SHA256 of the exact body, protocol headers that cannot be forged.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { test } from 'node:test';
import type { ProxyEvent } from '../../src/core/events.ts';
import { backoffDelayMs, MAX_BACKOFF_MS } from '../../src/services/events/webhook-queue.ts';
import { deliveryHeaders, signBody, type WebhookTarget } from '../../src/services/events/webhooks.ts';

const event: ProxyEvent = {
  event_id: '00000000-0000-4000-8000-000000000000',
  event_type: 'client_connected',
  stream_id: 'abc',
  timestamp: '2030-01-01T00:00:00.000Z',
  data: { metadata: { id: '7' }, client_id: 'c1' },
};

const target: WebhookTarget = {
  url: 'http://127.0.0.1:9/hook',
  events: ['client_connected'],
  headers: {
    Authorization: 'Bearer t',
    'X-M3U-Proxy-Event': 'forged',
    'x-m3u-proxy-signature': 'sha256=forged',
    'Content-Type': 'text/plain',
    'Transfer-Encoding': 'chunked',
    Host: 'elsewhere',
  },
  timeoutMs: 10_000,
  retryAttempts: 3,
};

test('signBody is HMAC-SHA256 in hex with a sha256= prefix (RFC 4231 test case 2)', () => {
  assert.equal(signBody('Jefe', 'what do ya want for nothing?'), 'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});

test('the signature covers the exact body bytes: a receiver recomputing it with timingSafeEqual accepts it', () => {
  const body = Buffer.from(JSON.stringify(event));
  const header = deliveryHeaders(target, event, body, '1.2.3', 's3cret')['x-m3u-proxy-signature'];
  assert.equal(typeof header, 'string');
  const given = Buffer.from(String(header).slice('sha256='.length), 'hex');
  assert.ok(timingSafeEqual(given, createHmac('sha256', 's3cret').update(body).digest()));
  // One changed byte (or another secret) no longer matches.
  assert.notEqual(signBody('s3cret', Buffer.from(JSON.stringify({ ...event, stream_id: 'abd' }))), header);
  assert.notEqual(signBody('other', body), header);
});

test('protocol headers win over custom ones; custom ones are otherwise sent', () => {
  const body = Buffer.from(JSON.stringify(event));
  const h = deliveryHeaders(target, event, body, '1.2.3', 's3cret');
  assert.equal(h['user-agent'], 'm3u-proxy-webhook/1.2.3');
  assert.equal(h['content-type'], 'application/json');
  assert.equal(h['content-length'], body.length);
  assert.equal(h['x-m3u-proxy-event'], 'client_connected');
  assert.equal(h['x-m3u-proxy-signature'], signBody('s3cret', body));
  assert.equal(h['authorization'], 'Bearer t');
  // Framing headers stay Node's: a custom Transfer-Encoding or Host would corrupt or misroute the POST.
  assert.equal(h['transfer-encoding'], undefined);
  assert.equal(h['host'], undefined);
});

test('without a secret there is no signature header, not even a custom one', () => {
  const body = Buffer.from(JSON.stringify(event));
  const h = deliveryHeaders(target, event, body, '1.2.3', undefined);
  assert.equal(h['x-m3u-proxy-signature'], undefined);
  assert.equal(h['x-m3u-proxy-event'], 'client_connected');
});

test('back-off doubles from the base (1 s, 2 s, 4 s...), adds at most 20 % jitter, and is capped', () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelayMs(n, 1000, () => 0)), [1000, 2000, 4000, 8000]);
  assert.deepEqual([1, 2, 3].map((n) => backoffDelayMs(n, 1000, () => 0.999999)), [1200, 2400, 4800]);
  assert.equal(backoffDelayMs(30, 1000, () => 0), MAX_BACKOFF_MS);
});
