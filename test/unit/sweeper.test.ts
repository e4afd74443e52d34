// services/sweeper.ts on a real registry and stream service, driven by t.mock.timers and an injected clock: no sleeps.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createEventBus, type ProxyEvent } from '../../src/core/events.ts';
import { MemoryRegistry, type StreamInput } from '../../src/core/registry.ts';
import { silentLogger, type Logger } from '../../src/log.ts';
import { ConnectionTracker } from '../../src/services/upstream/connections.ts';
import { createStreamService } from '../../src/services/streams.ts';
import { clientTickMs, Sweeper } from '../../src/services/sweeper.ts';

const CLIENT_TIMEOUT_MS = 30_000;
const STREAM_TIMEOUT_MS = 300_000;
const INTERVAL_MS = 60_000;
const info = { userAgent: 'VLC', ip: '127.0.0.1', username: null };

function input(url: string): StreamInput {
  return { url, failoverUrls: [], userAgent: null, headers: {}, metadata: { id: '1' }, kind: 'hls' };
}

function setup(t: TestContext, logger: Logger = silentLogger, intervalMs = INTERVAL_MS) {
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
    intervalMs,
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

test('§6 an idle HLS client is gone CLIENT_TIMEOUT plus one short tick after its last request, whatever CLEANUP_INTERVAL is', (t) => {
  const { registry, streams, sweeper, elapse } = setup(t, silentLogger, 10 * 60_000);
  const { stream } = streams.create(input('http://o/a.m3u8'));
  streams.touchHlsClient(stream, 'c1', info);
  sweeper.start();
  sweeper.start(); // idempotent: still one pair of timers
  elapse(CLIENT_TIMEOUT_MS - 1);
  assert.equal(registry.clientCount(), 1, 'not idle for CLIENT_TIMEOUT yet');
  elapse(clientTickMs(CLIENT_TIMEOUT_MS, 10 * 60_000));
  assert.equal(registry.clientCount(), 0, 'the short tick ended it long before the 10-minute cleanup interval');
  assert.equal(registry.streamCount(), 1, 'streams wait for the cleanup interval and STREAM_TIMEOUT');
});

test('nothing is swept after stop()', (t) => {
  const { registry, streams, sweeper, elapse } = setup(t);
  const { stream } = streams.create(input('http://o/a.m3u8'));
  streams.touchHlsClient(stream, 'c1', info);
  sweeper.start();
  sweeper.stop();
  elapse(10 * STREAM_TIMEOUT_MS);
  assert.equal(registry.clientCount(), 1);
  assert.equal(registry.streamCount(), 1);
});

test('§6 the last HLS viewer timing out stops the stream at once; the later sweep of the stream sends nothing more', (t) => {
  const { registry, streams, sweeper, elapse, types, events } = setup(t);
  const { stream } = streams.create(input('http://o/a.m3u8'));
  streams.touchHlsClient(stream, 'c1', info);
  sweeper.start();
  elapse(INTERVAL_MS);
  assert.equal(registry.clientCount(), 0);
  assert.equal(registry.streamCount(), 1);
  assert.deepEqual(types(), ['stream_started:', 'client_connected:', 'client_disconnected:timeout', 'stream_stopped:last_client_disconnected']);
  assert.equal(events[2]?.data['client_id'], 'c1');
  assert.deepEqual(events[3]?.data.metadata, { id: '1' });

  // The stream's idle clock started when its last client left; it goes once STREAM_TIMEOUT has passed since.
  elapse(STREAM_TIMEOUT_MS - INTERVAL_MS);
  assert.equal(registry.streamCount(), 1);
  elapse(2 * INTERVAL_MS);
  assert.equal(registry.streamCount(), 0);
  assert.equal(types().length, 4, 'already stopped: no second stream_stopped');
});

test('§6 a stream nobody watched is swept with stream_stopped inactive_timeout; a viewer after a stop restarts it', (t) => {
  const { registry, streams, sweeper, elapse, types } = setup(t);
  const { stream } = streams.create(input('http://o/a.m3u8'));
  const other = streams.create(input('http://o/b.m3u8')).stream;
  streams.touchHlsClient(other, 'c1', info);
  elapse(CLIENT_TIMEOUT_MS);
  sweeper.sweepClients();
  streams.touchHlsClient(other, 'c2', info);
  elapse(STREAM_TIMEOUT_MS);
  // c2's timeout stops `other`, and both client-less streams are removed; only the never-watched one sends stream_stopped now.
  assert.deepEqual(sweeper.sweep(), { clients: 1, streams: 2 });
  assert.equal(registry.getStream(stream.id), undefined);
  assert.deepEqual(types(), [
    'stream_started:',
    'stream_started:',
    'client_connected:',
    'client_disconnected:timeout',
    'stream_stopped:last_client_disconnected',
    'stream_started:',
    'client_connected:',
    'client_disconnected:timeout',
    'stream_stopped:last_client_disconnected',
    'stream_stopped:inactive_timeout',
  ]);
});

test('§7 a continuous viewer\'s last_access follows its bytes on the short tick, not per chunk', (t) => {
  const { registry, streams, sweeper, elapse } = setup(t);
  const { stream } = streams.create(input('http://o/a.ts'));
  const client = streams.openSession(stream, 'player', info);
  const opened = client.lastAccess;
  sweeper.start();
  registry.addBytes(client, stream, 188);
  assert.equal(client.lastAccess, opened, 'the byte path does not touch the clock');
  elapse(1_000);
  assert.ok(client.lastAccess > opened, 'refreshed by the tick while bytes flow');
  const refreshed = client.lastAccess;
  elapse(5_000);
  assert.equal(client.lastAccess, refreshed, 'no bytes since: unchanged');
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
  assert.deepEqual(types(), ['stream_started:', 'client_connected:', 'client_disconnected:timeout', 'stream_stopped:last_client_disconnected']);
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
      refreshSessions: () => undefined,
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
