// SPEC §5.5 bounds: a viewer of a shared live stream that stops reading never slows the upstream or another viewer;
// the memory the proxy holds for it stays under the queue bound; it jumps to the live edge (counted) and, reading
// nothing at all, is disconnected after the read timeout.
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { parseExposition } from '../helpers/prom-text.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const BOUND = 256 * 1024;

/** A player that reads its headers and then nothing: its socket's receive buffer fills, then the proxy's writes block. */
function openStuckPlayer(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.pause();
      resolve(res);
    });
    req.once('error', reject);
    req.end();
  });
}

test('§5.5 a viewer that stops reading: bounded memory, the other viewer keeps the full rate, then it is cut', async (t) => {
  // About 2.6 MB/s: 10 × 1316 bytes every 5 ms.
  const live = { kind: 'live', fill: 0x47, chunkBytes: 13_160, intervalMs: 5 } as const;
  const origin = await startOrigin(t, { '/live.ts': live, '/control.ts': live });
  const proxy = await startProxy(t, { shareQueueBytes: BOUND, readTimeoutMs: 1_500 });
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/live.ts') });
  const { stream_id: id, stream_endpoint: endpoint } = created.body as { stream_id: string; stream_endpoint: string };
  const url = proxy.base + endpoint;

  const reader = await openPlayer(t, url);
  // A control: the same source on another stream, with no stuck neighbour.
  const control = await api(proxy.base, 'POST', '/streams', { url: origin.url('/control.ts') });
  const controlPlayer = await openPlayer(t, proxy.base + (control.body as { stream_endpoint: string }).stream_endpoint);
  await reader.waitBytes(100_000);
  await controlPlayer.waitBytes(100_000);
  const readerStart = reader.bytes;
  const controlStart = controlPlayer.bytes;
  const stuck = await openStuckPlayer(`${url}?client_id=stuck`);
  t.after(() => stuck.destroy());
  const upstream = origin.lastRequest('/live.ts');

  // Watch what the proxy holds for the stream while the stuck viewer is connected: the shared ring's bytes.
  let maxRing = 0;
  let jumps = 0;
  await waitFor(
    () => {
      for (const f of proxy.app.share.figures()) maxRing = Math.max(maxRing, f.retainedBytes);
      const session = proxy.app.registry.findClient(id, 'stuck')[0];
      if (!session) return true;
      jumps = proxy.app.share.viewerOf(session)?.jumps ?? jumps;
      return false;
    },
    20_000,
    'the stuck viewer cut after the read timeout',
  );
  assert.ok(jumps > 0, 'the stuck viewer jumped to the live edge');
  assert.ok(maxRing > 0 && maxRing <= BOUND + 13_160, `the ring held at most ${maxRing} bytes (bound ${BOUND})`);

  // The reading viewer kept its rate: over the same window it received about what the control viewer did, and
  // (about) everything its upstream sent.
  const got = reader.bytes - readerStart;
  const controlGot = controlPlayer.bytes - controlStart;
  assert.ok(got >= controlGot * 0.8, `reader ${got} bytes vs control ${controlGot} bytes over the same window`);
  const sent = upstream.bytesSent;
  await reader.waitBytes(sent - 64 * 1024);
  assert.equal(origin.hits('/live.ts').length, 1);
  assert.equal(reader.res.destroyed, false);

  const text = (await api(proxy.base, 'GET', '/metrics')).body as string;
  const families = parseExposition(text);
  const value = (name: string): number => families.get(name)?.samples[0]?.value ?? -1;
  assert.ok(value('m3u_proxy_shared_viewer_jumps_total') >= 1);
  assert.ok(value('m3u_proxy_shared_skipped_bytes_total') > 0);
  assert.equal(value('m3u_proxy_shared_viewer_timeouts_total'), 1);
});
