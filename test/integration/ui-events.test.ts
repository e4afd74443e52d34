// Issue 26 GET /ui/events: the dashboard's Server-Sent Events feed (one shared timer, subscribers cleaned up on close).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { DashboardProcess, DashboardSnapshot } from '../../src/services/dashboard-snapshot.ts';
import { alive, editorPayload } from '../helpers/broadcast.ts';
import { fakeFfmpeg, type FakeFfmpegOptions } from '../helpers/fake-ffmpeg.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { openSse } from '../helpers/sse.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const TOKEN = 'ui-events-token';
const auth = { 'x-api-token': TOKEN };

test('/ui/events is a management route: 401 without the token, 403 with a wrong one', async (t) => {
  const { base, app } = await startProxy(t, { apiToken: TOKEN });
  assert.equal((await api(base, 'GET', '/ui/events')).status, 401);
  assert.equal((await api(base, 'GET', '/ui/events?api_token=nope')).status, 403);
  assert.equal(app.dashboardEvents.size(), 0);
  const head = await fetch(`${base}/ui/events?api_token=${TOKEN}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.match(head.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(app.dashboardEvents.size(), 0, 'a HEAD request is answered and not subscribed');
});

test('a snapshot every second: viewers, provider connections, failover position, bytes that grow; kick and leave show', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live', chunkBytes: 4096, intervalMs: 20 }, '/backup.ts': { kind: 'live' } });
  const { base, app } = await startProxy(t, { apiToken: TOKEN });
  const created = await api(base, 'POST', '/streams', { url: origin.url('/live.ts'), failover_urls: [origin.url('/backup.ts')] }, auth);
  assert.equal(created.status, 200);
  const { stream_id: id, stream_endpoint: endpoint } = created.body as { stream_id: string; stream_endpoint: string };

  const feed = await openSse(t, `${base}/ui/events?api_token=${TOKEN}`);
  assert.equal(feed.res.statusCode, 200);
  assert.match(feed.res.headers['content-type'] ?? '', /^text\/event-stream/);
  assert.equal(feed.res.headers['x-accel-buffering'], 'no');
  const idle = await feed.next<DashboardSnapshot>(() => true);
  assert.equal(idle.total_streams, 1);
  assert.deepEqual(
    { ...idle.streams[0], clients: idle.streams[0]?.clients.length },
    {
      stream_id: id, stream_type: 'Live Continuous', client_count: 0, upstream_connections: 0, bytes_served: 0, error_count: 0,
      current_failover_index: 0, url_count: 2, has_failover: true, failover_count: 0, last_failover_time: null, clients: 0, clients_truncated: false,
    },
  );

  const player = await openPlayer(t, base + endpoint, { 'user-agent': 'dash-test/1' });
  await player.waitBytes(8192);
  const playing = (s: DashboardSnapshot) => (s.streams[0]?.bytes_served ?? 0) > 0;
  const first = await feed.next<DashboardSnapshot>(playing);
  const firstAt = feed.events.indexOf(first);
  const later = await feed.next<DashboardSnapshot>((s) => s.t > first.t && playing(s), firstAt + 1);
  const [a, b] = [first.streams[0]!, later.streams[0]!];
  assert.ok(b.bytes_served > a.bytes_served, `bytes grow between snapshots: ${a.bytes_served} → ${b.bytes_served}`);
  assert.ok(later.total_bytes_served >= b.bytes_served);
  assert.equal(b.client_count, 1);
  assert.equal(b.upstream_connections, 1);
  assert.equal(later.total_clients, 1);
  assert.equal(later.total_upstream_connections, 1);
  assert.equal(b.clients[0]?.user_agent, 'dash-test/1');

  const failover = await api(base, 'POST', `/streams/${id}/failover`, undefined, auth);
  assert.equal(failover.status, 200);
  const moved = await feed.next<DashboardSnapshot>((s) => s.streams[0]?.current_failover_index === 1);
  assert.equal(moved.streams[0]?.failover_count, 1);
  assert.notEqual(moved.streams[0]?.last_failover_time, null);

  // The page's kick button: DELETE hls/{id}/clients/{client_id}, with the id the feed gave, works on a continuous viewer.
  const clientId = b.clients[0]?.client_id ?? '';
  const kick = await api(base, 'DELETE', `/hls/${id}/clients/${encodeURIComponent(clientId)}`, undefined, auth);
  assert.equal(kick.status, 200, JSON.stringify(kick.body));
  await player.done;
  const gone = await feed.next<DashboardSnapshot>((s) => s.total_clients === 0 && s.streams[0]?.upstream_connections === 0, feed.events.indexOf(moved));
  assert.equal(gone.streams[0]?.clients.length, 0);
  assert.equal(app.dashboardEvents.size(), 1);
});

test('one timer for all subscribers, running only while one listens; a closed client leaves the registry', async (t) => {
  const { base, app } = await startProxy(t, { apiToken: TOKEN });
  const hub = app.dashboardEvents;
  assert.equal(hub.ticking(), false);
  const one = await openSse(t, `${base}/ui/events?api_token=${TOKEN}`);
  const two = await openSse(t, `${base}/ui/events?api_token=${TOKEN}`);
  await waitFor(() => hub.size() === 2, 2_000, 'two subscribers');
  assert.equal(hub.ticking(), true);
  // Both see the same ticks: each tick is one payload, written to every subscriber.
  const tick = await two.next<DashboardSnapshot>((s) => s.t > 0, 1);
  await one.next<DashboardSnapshot>((s) => s.t === tick.t);

  one.close();
  await waitFor(() => hub.size() === 1, 2_000, 'one subscriber left');
  assert.equal(hub.ticking(), true);
  two.close();
  await waitFor(() => hub.size() === 0, 2_000, 'no subscriber left');
  assert.equal(hub.ticking(), false, 'the timer stops with the last subscriber');

  // And it starts again for the next one.
  const three = await openSse(t, `${base}/ui/events?api_token=${TOKEN}`);
  await three.next<DashboardSnapshot>(() => true);
  assert.equal(hub.ticking(), true);
  three.close();
  await waitFor(() => hub.size() === 0 && !hub.ticking(), 2_000, 'timer stopped again');
});

test('shutdown ends the open event streams instead of waiting out the grace period', async (t) => {
  const { base, app } = await startProxy(t);
  const feed = await openSse(t, `${base}/ui/events`);
  await feed.next(() => true);
  await app.close(30_000);
  await feed.ended;
  assert.equal(app.dashboardEvents.size(), 0);
  assert.equal(app.dashboardEvents.ticking(), false);
});

test("under ROOT_PATH the page's relative URLs (ui/events, streams/…) resolve below the root and answer", async (t) => {
  const { base } = await startProxy(t, { apiToken: TOKEN, rootPath: '/m3u' });
  const pageUrl = `${base}/ui?api_token=${TOKEN}`;
  assert.match(pageUrl, /\/m3u\/ui\?/);
  assert.equal((await fetch(pageUrl).then(async (r) => [r.status, await r.text()]))[0], 200);
  const events = new URL(`ui/events?api_token=${TOKEN}`, pageUrl);
  assert.equal(events.pathname, '/m3u/ui/events');
  const feed = await openSse(t, events.href);
  const snap = await feed.next<DashboardSnapshot>(() => true);
  assert.equal(snap.total_streams, 0);
  const list = await fetch(new URL(`streams?api_token=${TOKEN}`, pageUrl));
  await list.text();
  assert.equal(list.status, 200);
});

/** A provider key and a user in the URL: neither may reach the dashboard. */
const MEDIA = 'http://jelly:pa55@127.0.0.1:9/Videos/I1/stream.ts?static=true&api_key=K3Y';

/** A proxy whose FFMPEG_PATH is a fake FFmpeg, with the dashboard feed open. */
async function broadcastScene(t: TestContext, fake: FakeFfmpegOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'ui-events-bc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const proxy = await startProxy(t, { apiToken: TOKEN, ffmpegPath: fakeFfmpeg(t, fake).path, broadcastDir: dir, broadcastStartGraceMs: 300 });
  const feed = await openSse(t, `${proxy.base}/ui/events?api_token=${TOKEN}`);
  const start = async (id: string): Promise<number> => {
    const r = await api(proxy.base, 'POST', `/broadcast/${id}/start`, editorPayload(MEDIA, null), auth);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body as { ffmpeg_pid: number }).ffmpeg_pid;
  };
  const broadcast = (s: DashboardSnapshot, id: string): DashboardProcess | undefined => s.processes[0]?.items.find((p) => p.id === id);
  return { proxy, feed, start, broadcast };
}

test('a running broadcast in the snapshot (pid, growing segment and bytes, masked URL, stop path); stopped as the page does, it leaves', async (t) => {
  const { proxy, feed, start, broadcast } = await broadcastScene(t, { segments: -1, delay: 0.1 });
  const empty = await feed.next<DashboardSnapshot>(() => true);
  assert.deepEqual(empty.processes, [
    { kind: 'broadcast', title: 'Broadcasts', total: 0, truncated: false, items: [] },
    { kind: 'transcode', title: 'Transcodes', total: 0, truncated: false, items: [] },
  ]);

  const pid = await start('net-1');
  const running = await feed.next<DashboardSnapshot>((s) => (broadcast(s, 'net-1')?.current_segment_number ?? 0) >= 2);
  const item = broadcast(running, 'net-1')!;
  assert.deepEqual({ ...item, current_segment_number: 0, bytes_written: 0, started_at: '' }, {
    id: 'net-1', status: 'running', pid, started_at: '', stream_url: 'http://127.0.0.1:9/…/stream.ts?static=***&api_key=***',
    bytes_written: 0, current_segment_number: 0, error_message: null, stop: { method: 'POST', path: 'broadcast/net-1/stop' },
  });
  assert.ok(item.bytes_written >= 1880, `bytes written: ${item.bytes_written}`);
  assert.ok(Math.abs(Date.parse(item.started_at) - running.t) < 60_000, item.started_at);
  assert.deepEqual([running.processes[0]?.total, running.processes[0]?.truncated], [1, false]);
  const later = await feed.next<DashboardSnapshot>((s) => (broadcast(s, 'net-1')?.current_segment_number ?? 0) > (item.current_segment_number ?? 0), feed.events.indexOf(running) + 1);
  assert.ok(broadcast(later, 'net-1')!.bytes_written > item.bytes_written, 'bytes grow with the segments');

  // The page's stop button: its relative path under the API root, the token in the query, no body.
  const stop = await fetch(`${proxy.base}/${item.stop!.path}?api_token=${TOKEN}`, { method: item.stop!.method });
  assert.equal(stop.status, 200, await stop.text());
  assert.ok(!alive(pid), 'FFmpeg gone after the stop');
  const after = await feed.next<DashboardSnapshot>((s) => s.processes[0]?.total === 0, feed.events.indexOf(later) + 1);
  assert.deepEqual(after.processes[0]?.items, []);
  const raw = JSON.stringify(feed.events);
  assert.ok(!raw.includes('K3Y') && !raw.includes('pa55') && !raw.includes('jelly'), 'no credential in any snapshot');
});

test('a broadcast whose programme ended shows stopped, one whose FFmpeg failed shows failed with why; neither has a stop button', async (t) => {
  // 3 s programmes: running for a few snapshots, well past the 0.3 s start grace.
  const ended = await broadcastScene(t, { segments: 10, delay: 0.3, exitCode: 0 });
  const pid = await ended.start('net-end');
  await ended.feed.next<DashboardSnapshot>((s) => ended.broadcast(s, 'net-end')?.status === 'running');
  const stopped = await ended.feed.next<DashboardSnapshot>((s) => ended.broadcast(s, 'net-end')?.status === 'stopped', 0, 15_000);
  const item = ended.broadcast(stopped, 'net-end')!;
  assert.deepEqual([item.pid, item.current_segment_number, item.error_message, item.stop], [pid, 9, null, null]);
  assert.equal(stopped.processes[0]?.total, 1, 'a finished broadcast stays listed for a while');
  // Running broadcasts are listed before finished ones.
  await ended.start('net-next');
  const both = await ended.feed.next<DashboardSnapshot>((s) => s.processes[0]?.total === 2, ended.feed.events.indexOf(stopped) + 1);
  assert.deepEqual(both.processes[0]?.items.map((p) => [p.id, p.status]), [['net-next', 'running'], ['net-end', 'stopped']]);

  const failing = await broadcastScene(t, { segments: 4, delay: 0.3, exitCode: 1 });
  await failing.start('net-fail');
  const failed = await failing.feed.next<DashboardSnapshot>((s) => failing.broadcast(s, 'net-fail')?.status === 'failed', 0, 15_000);
  const f = failing.broadcast(failed, 'net-fail')!;
  assert.equal(f.error_message, 'FFmpeg exited with code 1');
  assert.equal(f.stop, null);
});
