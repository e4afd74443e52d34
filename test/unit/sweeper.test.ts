// services/sweeper.ts on a real registry and stream service, driven by t.mock.timers and an injected clock: no sleeps.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createEventBus, type ProxyEvent } from '../../src/core/events.ts';
import { MemoryRegistry, type StreamInput } from '../../src/core/registry.ts';
import { silentLogger, type Logger } from '../../src/log.ts';
import { ConnectionTracker } from '../../src/services/upstream/connections.ts';
import { createStreamService } from '../../src/services/streams.ts';
import { Sweeper } from '../../src/services/sweeper.ts';

const CLIENT_TIMEOUT_MS = 30_000;
const STREAM_TIMEOUT_MS = 300_000;
const INTERVAL_MS = 60_000;
const info = { userAgent: 'VLC', ip: '127.0.0.1', username: null };

function input(url: string): StreamInput {
  return { url, failoverUrls: [], userAgent: null, headers: {}, metadata: { id: '1' }, kind: 'hls' };
}

function setup(t: TestContext, logger: Logger = silentLogger) {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let clock = 1_000_000;
  const registry = new MemoryRegistry(() => clock);
  const bus = createEventBus();
  const events: ProxyEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const streams = createStreamService({ registry, bus, connections: new ConnectionTracker(), logger, defaultUserAgent: 'UA' });
  const sweeper = new Sweeper({
    registry,
    streams,
    logger,
    clientTimeoutMs: CLIENT_TIMEOUT_MS,
    streamTimeoutMs: STREAM_TIMEOUT_MS,
    intervalMs: INTERVAL_MS,
  });
  t.after(() => sweeper.stop());
  // The clock and the interval move together, as they would in real time.
  const elapse = (ms: number) => {
    clock += ms;
    t.mock.timers.tick(ms);
  };
  const types = () => events.map((e) => `${e.event_type}:${String(e.data['reason'] ?? '')}`);
  return { registry, streams, sweeper, events, elapse, types };
}

test('nothing is swept before the interval fires, and nothing after stop()', (t) => {
  const { registry, streams, sweeper, elapse } = setup(t);
  const { stream } = streams.create(input('http://o/a.m3u8'));
  streams.touchHlsClient(stream, 'c1', info);
  sweeper.start();
  sweeper.start(); // idempotent: still one interval
  elapse(INTERVAL_MS - 1);
  assert.equal(registry.clientCount(), 1, 'idle past CLIENT_TIMEOUT, but the interval has not fired yet');
  sweeper.stop();
  elapse(10 * INTERVAL_MS);
  assert.equal(registry.clientCount(), 1);
  assert.equal(registry.streamCount(), 1);
});

test('an idle HLS client is ended with reason timeout; its stream stays until STREAM_TIMEOUT', (t) => {
  const { registry, streams, sweeper, elapse, types, events } = setup(t);
  const { stream } = streams.create(input('http://o/a.m3u8'));
  streams.touchHlsClient(stream, 'c1', info);
  sweeper.start();
  elapse(INTERVAL_MS);
  assert.equal(registry.clientCount(), 0);
  assert.equal(registry.streamCount(), 1);
  assert.deepEqual(types(), ['stream_started:', 'client_connected:', 'client_disconnected:timeout']);
  assert.equal(events[2]?.data['client_id'], 'c1');
  assert.deepEqual(events[2]?.data.metadata, { id: '1' });

  // The stream's idle clock started when its last client left; it goes once STREAM_TIMEOUT has passed since.
  elapse(STREAM_TIMEOUT_MS - INTERVAL_MS);
  assert.equal(registry.streamCount(), 1);
  elapse(INTERVAL_MS);
  assert.equal(registry.streamCount(), 0);
  assert.deepEqual(types().slice(3), ['stream_stopped:timeout']);
});

test('an HLS client that keeps requesting is never swept', (t) => {
  const { registry, streams, sweeper, elapse } = setup(t);
  const { stream } = streams.create(input('http://o/a.m3u8'));
  sweeper.start();
  for (let i = 0; i < 20; i++) {
    streams.touchHlsClient(stream, 'c1', info);
    elapse(INTERVAL_MS / 4);
  }
  assert.equal(registry.clientCount(), 1);
  assert.equal(registry.streamCount(), 1);
});

test('continuous sessions end with their connection, never by idleness; their stream is kept', (t) => {
  const { registry, streams, sweeper, elapse } = setup(t);
  const { stream } = streams.create(input('http://o/a.ts'));
  streams.openSession(stream, 'player', info);
  sweeper.start();
  elapse(STREAM_TIMEOUT_MS * 2);
  assert.equal(registry.clientCount(), 1);
  assert.equal(registry.streamCount(), 1);
});

test('each transition is emitted once: a second sweep finds nothing more', (t) => {
  const { streams, sweeper, elapse, types } = setup(t);
  const { stream } = streams.create(input('http://o/a.m3u8'));
  streams.touchHlsClient(stream, 'c1', info);
  elapse(CLIENT_TIMEOUT_MS);
  assert.deepEqual(sweeper.sweep(), { clients: 1, streams: 0 });
  assert.deepEqual(sweeper.sweep(), { clients: 0, streams: 0 });
  elapse(STREAM_TIMEOUT_MS);
  assert.deepEqual(sweeper.sweep(), { clients: 0, streams: 1 });
  assert.deepEqual(sweeper.sweep(), { clients: 0, streams: 0 });
  assert.deepEqual(types(), ['stream_started:', 'client_connected:', 'client_disconnected:timeout', 'stream_stopped:timeout']);
});

test('a tick that throws is logged, and the next tick still runs', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const errors: string[] = [];
  const logger: Logger = { ...silentLogger, error: (msg) => errors.push(msg) };
  let calls = 0;
  const sweeper = new Sweeper({
    registry: {
      findExpired: () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return { clients: [], streams: [] };
      },
    },
    streams: { endClient: () => undefined, expireStream: () => false },
    logger,
    clientTimeoutMs: 1,
    streamTimeoutMs: 1,
    intervalMs: 10,
  });
  t.after(() => sweeper.stop());
  sweeper.start();
  t.mock.timers.tick(10);
  t.mock.timers.tick(10);
  assert.equal(calls, 2);
  assert.deepEqual(errors, ['sweeper tick failed']);
});
