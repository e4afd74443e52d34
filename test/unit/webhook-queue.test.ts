// services/webhook-queue.ts with a scripted send(): ordering, retries, give-up, drop-oldest, close() aborting the attempt.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyEvent } from '../../src/core/events.ts';
import { laneOf, type SendAttempt, WebhookQueue, type WebhookTarget } from '../../src/services/events/webhook-queue.ts';

const target: WebhookTarget = { url: 'http://127.0.0.1:9/h', events: ['stream_started'], headers: {}, timeoutMs: 60_000, retryAttempts: 2 };

function ev(n: number): ProxyEvent {
  return { event_id: `e${n}`, event_type: 'stream_started', stream_id: 's', timestamp: '2030-01-01T00:00:00.000Z', data: { metadata: {} } };
}

/** A queue whose send() answers from `statuses` in turn (200 once they run out) and records the event ids it saw. */
function setup(statuses: Array<number | Error>, overrides: Partial<WebhookTarget> = {}, maxQueue = 100) {
  const seen: string[] = [];
  const failures: Array<{ id: string; reason: string; attempts: number }> = [];
  const send: SendAttempt = async (_t, event) => {
    seen.push(event.event_id);
    const next = statuses.shift() ?? 200;
    if (next instanceof Error) throw next;
    return next;
  };
  const queue = new WebhookQueue(
    { ...target, ...overrides },
    {
      send,
      maxQueue,
      baseDelayMs: 0,
      random: () => 0,
      onFailure: (_t, event, reason, attempts) => failures.push({ id: event.event_id, reason, attempts }),
      onError: (err) => assert.fail(String(err)),
    },
  );
  return { queue, seen, failures };
}

test('events are delivered one at a time, in order', async () => {
  const { queue, seen } = setup([]);
  for (let i = 1; i <= 5; i++) queue.push(ev(i));
  await queue.idle();
  assert.deepEqual(seen, ['e1', 'e2', 'e3', 'e4', 'e5']);
  assert.deepEqual(queue.counters, { delivered: 5, failed: 0, dropped: 0, retries: 0 });
});

test('5xx and network errors are retried up to retry_attempts, then reported once', async () => {
  const { queue, seen, failures } = setup([500, new Error('ECONNREFUSED'), 503, 200]);
  queue.push(ev(1));
  queue.push(ev(2));
  await queue.idle();
  // e1: three attempts (1 + 2 retries) all fail; e2 then succeeds at once.
  assert.deepEqual(seen, ['e1', 'e1', 'e1', 'e2']);
  assert.deepEqual(failures, [{ id: 'e1', reason: 'HTTP 503', attempts: 3 }]);
  assert.deepEqual(queue.counters, { delivered: 1, failed: 1, dropped: 0, retries: 2 });
});

test('a 4xx other than 408/429 is not retried; 429 is', async () => {
  const { queue, seen, failures } = setup([404, 429, 200]);
  queue.push(ev(1));
  queue.push(ev(2));
  await queue.idle();
  assert.deepEqual(seen, ['e1', 'e2', 'e2']);
  assert.deepEqual(failures.map((f) => [f.id, f.attempts]), [['e1', 1]]);
});

test('a full queue drops its oldest events and counts them', async () => {
  const { queue, seen } = setup([], {}, 2);
  // e1 goes on the wire at once; e2..e5 compete for two places and the two newest stay.
  for (let i = 1; i <= 5; i++) queue.push(ev(i));
  assert.equal(queue.queued, 2);
  await queue.idle();
  assert.deepEqual(seen, ['e1', 'e4', 'e5']);
  assert.equal(queue.counters.dropped, 2);
});

test('close() aborts the attempt in flight, drops the rest, and ignores later pushes', async () => {
  let signalSeen: AbortSignal | undefined;
  const queue = new WebhookQueue(target, {
    // Never answers until aborted, like a dead endpoint.
    send: (_t, _e, signal) =>
      new Promise((_resolve, reject) => {
        signalSeen = signal;
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      }),
    maxQueue: 10,
    baseDelayMs: 0,
    random: () => 0,
    onFailure: () => assert.fail('a closed queue reports no failure'),
    onError: (err) => assert.fail(String(err)),
  });
  queue.push(ev(1));
  queue.push(ev(2));
  const idle = queue.idle();
  queue.close();
  await idle;
  assert.equal(signalSeen?.aborted, true);
  assert.equal(queue.queued, 0);
  queue.push(ev(3));
  assert.equal(queue.queued, 0);
  assert.deepEqual(queue.counters, { delivered: 0, failed: 0, dropped: 0, retries: 0 });
});

test('close() during a back-off wait ends it at once', async () => {
  // A long back-off: only close() can end it within the test.
  const slow = new WebhookQueue(target, {
    send: async () => 500,
    maxQueue: 10,
    baseDelayMs: 3_600_000,
    random: () => 0,
    onFailure: () => assert.fail('a closed queue reports no failure'),
    onError: (err) => assert.fail(String(err)),
  });
  slow.push(ev(1));
  await new Promise<void>((resolve) => setImmediate(resolve));
  const idle = slow.idle();
  slow.close();
  await idle;
  assert.equal(slow.counters.retries, 1);
});

/** An event of stream `stream`, numbered n. */
function evOf(stream: string, n: number): ProxyEvent {
  return { ...ev(n), event_id: `${stream}-${n}`, stream_id: stream };
}

test('issue 14: up to `concurrency` attempts in flight, events of one stream in order, other streams in parallel', async () => {
  let inFlight = 0;
  let peak = 0;
  const seen: string[] = [];
  const pending: Array<() => void> = [];
  const queue = new WebhookQueue(target, {
    // Each attempt waits until the test releases it, so the number in flight can be observed.
    send: async (_t, event) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((resolve) => pending.push(resolve));
      seen.push(event.event_id);
      inFlight -= 1;
      return 200;
    },
    maxQueue: 10_000,
    concurrency: 8,
    baseDelayMs: 0,
    random: () => 0,
    onFailure: () => assert.fail('no failure expected'),
    onError: (err) => assert.fail(String(err)),
  });
  const streams = Array.from({ length: 40 }, (_, i) => `stream-${i}`);
  for (let n = 1; n <= 5; n++) for (const s of streams) queue.push(evOf(s, n));
  const idle = queue.idle();
  // Release attempts one by one (oldest first) until everything is delivered.
  while (seen.length < 200) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    pending.shift()?.();
  }
  await idle;
  assert.equal(peak, 8, 'the lanes ran in parallel, and never more than 8');
  for (const s of streams) {
    const order = seen.filter((id) => id.startsWith(`${s}-`));
    assert.deepEqual(order, [1, 2, 3, 4, 5].map((n) => `${s}-${n}`), `${s} in order`);
  }
  assert.equal(queue.counters.delivered, 200);
});

test('issue 14: lanes by stream are stable and spread', () => {
  assert.equal(laneOf('abc', 8), laneOf('abc', 8));
  const used = new Set(Array.from({ length: 64 }, (_, i) => laneOf(`33ef51b8ad46bd85e23be0f91b74ce${i}`, 8)));
  assert.equal(used.size, 8);
});

test('issue 14: a full queue drops the oldest event of any lane, and only past its bound', async () => {
  const seen: string[] = [];
  const gate: Array<() => void> = [];
  const queue = new WebhookQueue(target, {
    send: async (_t, event) => {
      await new Promise<void>((resolve) => gate.push(resolve));
      seen.push(event.event_id);
      return 200;
    },
    maxQueue: 3,
    concurrency: 2,
    baseDelayMs: 0,
    random: () => 0,
    onFailure: () => assert.fail('no failure expected'),
    onError: (err) => assert.fail(String(err)),
  });
  // Two streams on different lanes: their first events go on the wire, the rest wait.
  const [a, b] = ['a', 'b', 'c', 'd', 'e'].filter((s, _i, all) => all.findIndex((x) => laneOf(x, 2) === laneOf(s, 2)) === all.indexOf(s));
  assert.ok(a !== undefined && b !== undefined);
  queue.push(evOf(a, 1));
  queue.push(evOf(b, 1));
  queue.push(evOf(a, 2));
  queue.push(evOf(b, 2));
  queue.push(evOf(a, 3));
  assert.equal(queue.counters.dropped, 0, 'three waiting: within the bound');
  queue.push(evOf(b, 3));
  assert.equal(queue.counters.dropped, 1);
  assert.equal(queue.queued, 3);
  const idle = queue.idle();
  while (gate.length > 0 || queue.queued > 0) {
    gate.shift()?.();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await idle;
  assert.ok(!seen.includes(`${a}-2`), 'the oldest waiting event was the one dropped');
  assert.deepEqual(seen.filter((id) => id.startsWith(`${b}-`)), [`${b}-1`, `${b}-2`, `${b}-3`]);
});
