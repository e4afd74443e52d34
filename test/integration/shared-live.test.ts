// SPEC §5.5 over real HTTP: live /stream viewers share one upstream connection per stream; it opens with the first
// viewer, survives the opener leaving, closes with the last viewer, follows failover for everybody, and can be
// turned off per stream or for all streams.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import type { ProxyEvent } from '../../src/core/events.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const PRIMARY = 0x11;
const BACKUP = 0x22;

async function createStream(base: string, body: Record<string, unknown>): Promise<{ stream_id: string; stream_endpoint: string }> {
  const r = await api(base, 'POST', '/streams', body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as { stream_id: string; stream_endpoint: string };
}

function collect(bus: { subscribe(l: (e: ProxyEvent) => void): () => void }, type: string): ProxyEvent[] {
  const out: ProxyEvent[] = [];
  bus.subscribe((e) => {
    if (e.event_type === type) out.push(e);
  });
  return out;
}

async function streamStat(base: string, id: string): Promise<{ stream: Record<string, unknown>; clients: Record<string, unknown>[] }> {
  const r = await api(base, 'GET', `/streams/${id}`);
  assert.equal(r.status, 200);
  return r.body as { stream: Record<string, unknown>; clients: Record<string, unknown>[] };
}

test('§5.5 three live viewers cost one provider connection; the opener leaving changes nothing; the last closes it', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live', fill: PRIMARY } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, { url: origin.url('/live.ts') });
  const url = proxy.base + s.stream_endpoint;

  const opener = await openPlayer(t, url);
  await opener.waitBytes(10_000);
  const second = await openPlayer(t, url);
  const third = await openPlayer(t, url, { range: 'bytes=0-' });
  await second.waitBytes(10_000);
  await third.waitBytes(10_000);
  assert.equal(origin.hits('/live.ts').length, 1, 'one upstream request for three viewers');
  let stat = await streamStat(proxy.base, s.stream_id);
  assert.equal(stat.stream['upstream_connections'], 1);
  assert.equal(stat.stream['client_count'], 3);
  assert.equal(stat.stream['shared_viewers'], 3);

  opener.leave();
  await waitFor(() => proxy.app.registry.clientCount(s.stream_id) === 2, 2_000, 'the opener gone');
  const before = second.bytes;
  await second.waitBytes(before + 50_000);
  assert.equal(origin.hits('/live.ts').length, 1, 'no reconnect when the opener left');
  assert.equal(origin.lastRequest('/live.ts').isSocketClosed(), false);

  second.leave();
  third.leave();
  await origin.lastRequest('/live.ts').socketClosed;
  stat = await streamStat(proxy.base, s.stream_id);
  assert.equal(stat.stream['upstream_connections'], 0);
  // Each viewer's bytes_served is what it received: the proxy counted exactly the bytes written to each.
  const total = (proxy.app.registry.getStream(s.stream_id)?.bytesServed ?? 0);
  assert.ok(total >= opener.bytes + second.bytes + third.bytes, 'every received byte was counted');
});

test('§5.5 concurrent first viewers wait for the one upstream being opened', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live', fill: PRIMARY, delayMs: 100 } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, { url: origin.url('/live.ts') });
  const players = await Promise.all([0, 1, 2, 3].map(() => openPlayer(t, proxy.base + s.stream_endpoint)));
  await Promise.all(players.map((p) => p.waitBytes(5_000)));
  assert.equal(origin.hits('/live.ts').length, 1);
});

test('§5.5 the opener leaving before its upstream answers: the viewers waiting on it share one new upstream', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live', fill: PRIMARY, delayMs: 400 } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, { url: origin.url('/live.ts') });
  const url = proxy.base + s.stream_endpoint;
  const opener = request(`${url}?client_id=opener`, { agent: false });
  opener.on('error', () => undefined); // destroyed below, on purpose
  opener.end();
  t.after(() => opener.destroy());
  await waitFor(() => origin.hits('/live.ts').length === 1, 5_000, 'the opener reached the origin');
  const waitingB = openPlayer(t, `${url}?client_id=b`);
  const waitingC = openPlayer(t, `${url}?client_id=c`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  opener.destroy();
  const [b, c] = await Promise.all([waitingB, waitingC]);
  await Promise.all([b.waitBytes(20_000), c.waitBytes(20_000)]);
  // Woken together by the abandoned open, they used to claim one after the other and open one upstream each.
  assert.equal(origin.hits('/live.ts').length, 2, 'the abandoned open and one shared upstream');
  assert.equal(origin.openSockets, 1);
  assert.equal(proxy.app.share.viewers(s.stream_id), 2);
});

test('§5.5 VOD, a real Range and share_upstream=false keep one upstream per player', async (t) => {
  const body = Buffer.alloc(300_000, 7);
  const origin = await startOrigin(t, {
    '/movie.mp4': { kind: 'file', body },
    '/own.ts': { kind: 'live', fill: PRIMARY },
  });
  const proxy = await startProxy(t);
  const vod = await createStream(proxy.base, { url: origin.url('/movie.mp4') });
  const a = await openPlayer(t, proxy.base + vod.stream_endpoint);
  const b = await openPlayer(t, proxy.base + vod.stream_endpoint, { range: 'bytes=1000-' });
  await a.done;
  await b.done;
  assert.equal(a.bytes, body.length);
  assert.equal(b.bytes, body.length - 1000);
  assert.equal(origin.hits('/movie.mp4').length, 2);

  const own = await createStream(proxy.base, { url: origin.url('/own.ts'), share_upstream: false });
  const stat = await streamStat(proxy.base, own.stream_id);
  assert.equal(stat.stream['share_upstream'], false);
  const c = await openPlayer(t, proxy.base + own.stream_endpoint);
  const d = await openPlayer(t, proxy.base + own.stream_endpoint);
  await c.waitBytes(5_000);
  await d.waitBytes(5_000);
  assert.equal(origin.hits('/own.ts').length, 2, 'opted out: one upstream per player');
  assert.equal((await streamStat(proxy.base, own.stream_id)).stream['upstream_connections'], 2);
});

test('§5.5 SHARE_LIVE_UPSTREAM=false: one upstream per player', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live', fill: PRIMARY } });
  const proxy = await startProxy(t, { shareLiveUpstream: false });
  const s = await createStream(proxy.base, { url: origin.url('/live.ts') });
  const a = await openPlayer(t, proxy.base + s.stream_endpoint);
  const b = await openPlayer(t, proxy.base + s.stream_endpoint);
  await a.waitBytes(5_000);
  await b.waitBytes(5_000);
  assert.equal(origin.hits('/live.ts').length, 2);
});

test('§5.5 manual failover moves the shared upstream: every viewer stays, one event per switch', async (t) => {
  const origin = await startOrigin(t, {
    '/live.ts': { kind: 'live', fill: PRIMARY },
    '/backup.ts': { kind: 'live', fill: BACKUP },
  });
  const proxy = await startProxy(t);
  const failovers = collect(proxy.app.bus, 'failover_triggered');
  const s = await createStream(proxy.base, { url: origin.url('/live.ts'), failover_urls: [origin.url('/backup.ts')] });
  const url = proxy.base + s.stream_endpoint;
  const viewers = [await openPlayer(t, url), await openPlayer(t, url), await openPlayer(t, url)];
  await Promise.all(viewers.map((v) => v.waitBytes(5_000)));

  const r = await api(proxy.base, 'POST', `/streams/${s.stream_id}/failover`);
  assert.equal(r.status, 200);
  await waitFor(() => viewers.every((v) => v.lastByte === BACKUP), 3_000, 'backup bytes at every viewer');
  assert.equal(origin.hits('/backup.ts').length, 1, 'one upstream request moved for all viewers');
  assert.equal(failovers.length, 1);

  // Back to the primary: again one upstream request and one event for all viewers.
  const primaryHits = origin.hits('/live.ts').length;
  await api(proxy.base, 'POST', `/streams/${s.stream_id}/failover`);
  await waitFor(() => viewers.every((v) => v.lastByte === PRIMARY), 3_000, 'primary bytes at every viewer');
  assert.equal(origin.hits('/live.ts').length, primaryHits + 1);
  assert.equal(failovers.length, 2);
  for (const v of viewers) assert.equal(v.res.destroyed, false, 'no viewer was disconnected');
});

test('§5.3 a manual failover while the first viewer opens holds: that viewer and the next play the backup', async (t) => {
  const origin = await startOrigin(t, {
    '/live.ts': { kind: 'live', fill: PRIMARY, delayMs: 400 },
    '/backup.ts': { kind: 'live', fill: BACKUP },
  });
  const proxy = await startProxy(t);
  const failovers = collect(proxy.app.bus, 'failover_triggered');
  const s = await createStream(proxy.base, { url: origin.url('/live.ts'), failover_urls: [origin.url('/backup.ts')] });
  const url = proxy.base + s.stream_endpoint;
  const first = openPlayer(t, url);
  await waitFor(() => origin.hits('/live.ts').length === 1, 5_000, 'the first viewer reached the primary');
  assert.equal((await api(proxy.base, 'POST', `/streams/${s.stream_id}/failover`)).status, 200);
  const viewer = await first;
  await waitFor(() => viewer.lastByte === BACKUP, 3_000, 'backup bytes at the first viewer');
  const next = await openPlayer(t, url);
  await next.waitBytes(5_000);
  assert.equal(next.lastByte, BACKUP);
  // The open that answered from the primary after the switch used to record a failover back to it.
  assert.equal((await streamStat(proxy.base, s.stream_id)).stream['current_url'], origin.url('/backup.ts'));
  assert.deepEqual(failovers.map((e) => e.data['reason']), ['manual']);
  assert.equal(origin.openSockets, 1, 'one provider connection for both viewers');
});

test('§5.5 an upstream that breaks mid-stream reconnects once for all viewers, with one failover event', async (t) => {
  const origin = await startOrigin(t, {
    '/live.ts': { kind: 'live', fill: PRIMARY, fault: { kind: 'reset', afterBytes: 200_000, times: 1 } },
    '/backup.ts': { kind: 'live', fill: BACKUP },
  });
  const proxy = await startProxy(t);
  const failovers = collect(proxy.app.bus, 'failover_triggered');
  const s = await createStream(proxy.base, { url: origin.url('/live.ts'), failover_urls: [origin.url('/backup.ts')] });
  const url = proxy.base + s.stream_endpoint;
  const viewers = [await openPlayer(t, url), await openPlayer(t, url), await openPlayer(t, url)];
  await waitFor(() => viewers.every((v) => v.lastByte === BACKUP), 5_000, 'backup bytes at every viewer');
  assert.equal(origin.hits('/backup.ts').length, 1);
  assert.equal(failovers.length, 1);
  assert.equal(failovers[0]?.data['client_id'], null);
});

test('§5.5 DELETE and kick end shared viewers at once; DELETE closes the shared upstream', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live', fill: PRIMARY } });
  const proxy = await startProxy(t);
  const s = await createStream(proxy.base, { url: origin.url('/live.ts') });
  const url = proxy.base + s.stream_endpoint;
  const a = await openPlayer(t, `${url}?client_id=a`);
  const b = await openPlayer(t, `${url}?client_id=b`);
  await a.waitBytes(5_000);
  await b.waitBytes(5_000);
  const kick = await api(proxy.base, 'DELETE', `/hls/${s.stream_id}/clients/a`);
  assert.equal(kick.status, 200);
  await a.done;
  assert.equal(b.res.destroyed, false);
  const del = await api(proxy.base, 'DELETE', `/streams/${s.stream_id}`);
  assert.equal(del.status, 200);
  await b.done;
  await origin.lastRequest('/live.ts').socketClosed;
});
