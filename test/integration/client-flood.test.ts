// Issue 14 item 5, reproduced against the real server: 10,000 playlist requests with fresh client ids and 7 KB
// User-Agent and username values. Client records stay within MAX_CLIENTS_PER_STREAM / MAX_CLIENTS (idle HLS clients
// evicted and counted), stored strings are capped, and the stats answers stay bounded (paged).
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { test } from 'node:test';
import { MAX_CLIENT_TEXT_BYTES } from '../../src/core/registry.ts';
import { startOrigin } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';
import { parseExposition } from '../helpers/prom-text.ts';

const PLAYLIST = Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:6.0,\nseg1.ts\n#EXTINF:6.0,\nseg2.ts\n');
const REQUESTS = 10_000;
const PARALLEL = 16;
const PER_STREAM = 300;
const TOTAL = 500;

/** GET with a fixed keep-alive agent; resolves the status once the body is read. */
function get(agent: Agent, url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

test('issue 14: a flood of fresh client ids with 7 KB User-Agent and username stays bounded', { timeout: 300_000 }, async (t) => {
  const origin = await startOrigin(t, {
    '/a.m3u8': { kind: 'file', body: PLAYLIST, contentType: 'application/vnd.apple.mpegurl' },
    '/b.m3u8': { kind: 'file', body: PLAYLIST, contentType: 'application/vnd.apple.mpegurl' },
    '/c.m3u8': { kind: 'file', body: PLAYLIST, contentType: 'application/vnd.apple.mpegurl' },
  });
  const proxy = await startProxy(t, { maxClientsPerStream: PER_STREAM, maxClients: TOTAL });
  const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL });
  t.after(() => agent.destroy());

  const endpoints: string[] = [];
  for (const path of ['/a.m3u8', '/b.m3u8', '/c.m3u8']) {
    const r = await api(proxy.base, 'POST', '/streams', { url: origin.url(path) });
    endpoints.push((r.body as { stream_endpoint: string }).stream_endpoint);
  }

  const ua = 'U'.repeat(7 * 1024);
  const username = 'n'.repeat(7 * 1024);
  let next = 0;
  const statuses = new Map<number, number>();
  // PARALLEL workers over a shared counter: bounded in count, whatever the speed.
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let i = next++; i < REQUESTS; i = next++) {
        const endpoint = endpoints[i % endpoints.length] ?? '';
        const status = await get(agent, `${proxy.base}${endpoint}?client_id=flood-${i}&username=${username}`, { 'user-agent': ua });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  assert.deepEqual([...statuses], [[200, REQUESTS]], 'every playlist request was served');

  // Records: within both bounds, per stream and in all.
  const registry = proxy.app.registry;
  const count = registry.clientCount();
  assert.ok(count <= TOTAL, `${count} client records > ${TOTAL}`);
  for (const s of registry.streams()) assert.ok(registry.clientCount(s.id) <= PER_STREAM, `${registry.clientCount(s.id)} records on one stream`);
  // Each eviction was counted, and the newest clients are the ones kept.
  assert.equal(registry.clientEvictions, REQUESTS - count);
  assert.ok([...registry.clients()].some((c) => c.clientId === `flood-${REQUESTS - 1}`));
  for (const c of registry.clients()) {
    assert.ok(Buffer.byteLength(c.userAgent) <= MAX_CLIENT_TEXT_BYTES, `user agent of ${Buffer.byteLength(c.userAgent)} bytes`);
    assert.ok(Buffer.byteLength(c.username ?? '') <= MAX_CLIENT_TEXT_BYTES, `username of ${Buffer.byteLength(c.username ?? '')} bytes`);
  }

  const metrics = await api(proxy.base, 'GET', '/metrics');
  const evictions = parseExposition(metrics.body as string).get('m3u_proxy_client_evictions_total');
  assert.equal(evictions?.samples[0]?.value, REQUESTS - count);

  // The stats answers: bounded in size, totals still whole, and a page that says it is one.
  const stats = await fetch(`${proxy.base}/stats`);
  const statsText = await stats.text();
  assert.ok(statsText.length < 1024 * 1024, `/stats is ${statsText.length} bytes`);
  const statsBody = JSON.parse(statsText) as { total_clients: number; clients: unknown[]; streams: unknown[] };
  assert.equal(statsBody.total_clients, count);
  assert.equal(statsBody.streams.length, 3);

  const page = await api(proxy.base, 'GET', '/clients?limit=100&offset=50');
  const body = page.body as { total_clients: number; clients: Array<{ client_id: string; user_agent: string }>; truncated: boolean; limit: number; offset: number };
  assert.equal(body.total_clients, count);
  assert.equal(body.clients.length, 100);
  assert.equal(body.truncated, true);
  assert.deepEqual([body.limit, body.offset], [100, 50]);
  const last = await api(proxy.base, 'GET', `/stats/clients?limit=100&offset=${count - 10}`);
  const lastBody = last.body as { clients: unknown[]; truncated: boolean };
  assert.equal(lastBody.clients.length, 10);
  assert.equal(lastBody.truncated, false);
  const bad = await api(proxy.base, 'GET', '/clients?limit=0');
  assert.equal(bad.status, 422);
});
