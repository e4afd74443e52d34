// SPEC §16 end to end: three proxy nodes (child processes) sharing one redis-server, a local origin that counts its
// connections. N channels each watched on all three nodes make exactly N provider connections; counts agree on every
// node; a SIGKILLed owner's viewers reconnect to another node and play; with Redis stopped a new channel gets 503
// CLUSTER_UNAVAILABLE while the running ones go on, and once Redis is back the new channel plays.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisClient } from '../../src/core/redis/client.ts';
import { parseRedisUrl } from '../../src/core/redis/url.ts';
import { counts, LEASE_TTL_S, openPerPath, playUntilBytes, startNode, token } from '../helpers/cluster.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { openPlayer, type Player } from '../helpers/player.ts';
import { RedisServer, requireRedis } from '../helpers/redis-server.ts';
import type { SpawnedProxy } from '../helpers/spawn-proxy.ts';
import { api } from '../helpers/start-proxy.ts';
import { playlistUris } from '../helpers/hls.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

const CHANNELS = 10;
const PLAYLIST = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\nseg0.ts\n#EXT-X-ENDLIST\n';

test('§16 three nodes, one Redis: one provider connection per channel, shared counts, failover after kill -9, Redis down', { timeout: 90_000 }, async (t) => {
  if (!requireRedis(t)) return;
  const redis = await RedisServer.start();
  t.after(() => redis.stop());
  const redisUrl = `redis://127.0.0.1:${redis.port}`;
  const routes: Record<string, { kind: 'live'; chunkBytes: number; intervalMs: number; fill: number }> = {};
  for (let i = 0; i <= CHANNELS; i++) routes[`/live/c${i}.ts`] = { kind: 'live', chunkBytes: 1880, intervalMs: 20, fill: i };
  routes['/live/fo-a.ts'] = { kind: 'live', chunkBytes: 1880, intervalMs: 20, fill: 201 };
  routes['/live/fo-b.ts'] = { kind: 'live', chunkBytes: 1880, intervalMs: 20, fill: 202 };
  const segment = Buffer.alloc(188 * 20, 0x47);
  const origin = await startOrigin(t, {
    ...routes,
    '/vod/index.m3u8': { kind: 'file', body: Buffer.from(PLAYLIST), contentType: 'application/vnd.apple.mpegurl' },
    '/vod/seg0.ts': { kind: 'file', body: segment, contentType: 'video/mp2t' },
    // A file behind a live-looking URL: not a channel, so no lease holds it and every node plays its own.
    '/clip.ts': { kind: 'file', body: Buffer.alloc(1024 * 1024, 7), contentType: 'video/mp2t', chunkBytes: 16 * 1024, trickleMs: 200 },
  });
  const nodes = await Promise.all([startNode(t, redisUrl), startNode(t, redisUrl), startNode(t, redisUrl)]);

  // A webhook registered on one node is registered on all: every node reports to the receiver, and each event must
  // arrive once, from the node it belongs to.
  const receiver = await startReceiver(t);
  const events = ['stream_started', 'stream_stopped', 'client_connected', 'client_disconnected'];
  assert.equal((await api(nodes[1]?.base ?? '', 'POST', '/webhooks', { url: receiver.url, events }, token)).status, 200);
  for (const node of nodes) {
    for (let i = 0; ((await api(node.base, 'GET', '/webhooks', undefined, token)).body as { webhooks: unknown[] }).webhooks.length !== 1; i++) {
      assert.ok(i < 50, `the webhook is registered on ${node.base}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // Definitions created round-robin on the three nodes are known on every node.
  const ids: string[] = [];
  for (let i = 0; i <= CHANNELS; i++) {
    const node = nodes[i % 3] as SpawnedProxy;
    const r = await api(node.base, 'POST', '/streams', { url: origin.url(`/live/c${i}.ts`), metadata: { provider: 'acct' } }, token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    ids.push((r.body as { stream_id: string }).stream_id);
  }
  for (const node of nodes) {
    const known = await counts(node);
    for (const id of ids) assert.ok(known.has(id), `stream ${id} listed on ${node.base}`);
  }

  // URL_SECRET is shared: a segment URI sealed by node 0's playlist answer plays on node 1, and a forged one does not.
  const hls = await api(nodes[0]?.base ?? '', 'POST', '/streams', { url: origin.url('/vod/index.m3u8') }, token);
  assert.equal(hls.status, 200);
  const hlsId = (hls.body as { stream_id: string }).stream_id;
  const playlistUrl = `${nodes[0]?.base}/hls/${hlsId}/playlist.m3u8`;
  const listed = await fetch(playlistUrl);
  assert.equal(listed.status, 200);
  const segUri = playlistUris(await listed.text()).find((u) => /(^|\/)s\//.test(u)) ?? '';
  assert.ok(segUri !== '', 'the playlist names a proxied segment');
  const onOther = new URL(segUri, playlistUrl);
  onOther.port = String(nodes[1]?.port);
  const seg = await fetch(onOther);
  assert.equal(seg.status, 200, `segment ${onOther.pathname} on another node`);
  assert.deepEqual(Buffer.from(await seg.arrayBuffer()), segment);
  const forged = new URL(onOther);
  forged.pathname = forged.pathname.replace(/[A-Za-z0-9_-](?=[^/]*$)/, (c) => (c === 'A' ? 'B' : 'A'));
  assert.notEqual((await fetch(forged)).status, 200, 'a forged token is refused');
  const clip = await api(nodes[0]?.base ?? '', 'POST', '/streams', { url: origin.url('/clip.ts') }, token);
  const clipId = (clip.body as { stream_id: string }).stream_id;
  const clipFirst = await openPlayer(t, `${nodes[0]?.base}/stream/${clipId}`);
  await clipFirst.waitBytes(1);
  const clipSecond = await openPlayer(t, `${nodes[1]?.base}/stream/${clipId}`);
  assert.equal(clipSecond.res.statusCode, 200);
  await clipSecond.waitBytes(1, 3_000);
  clipFirst.leave();
  clipSecond.leave();

  // One node serves the stream's HLS (the holder of its HLS lease), the others forward to it: the same player asking
  // two nodes is one client, on one node, with one client_connected.
  assert.equal((await fetch(playlistUrl.replace(`:${nodes[0]?.port}/`, `:${nodes[2]?.port}/`))).status, 200);
  const hlsClients = await Promise.all(nodes.map(async (n) => ((await api(n.base, 'GET', `/streams/${hlsId}`, undefined, token)).body as { clients: unknown[] }).clients.length));
  assert.deepEqual([...hlsClients].sort(), [0, 0, 1], `HLS clients per node: ${hlsClients.join(',')}`);
  await receiver.until(() => receiver.ofType('client_connected').some((d) => d.event.stream_id === hlsId), 'client_connected of the HLS client');
  // A kick asked of another node reaches the node that has the client.
  const hlsHome = nodes[hlsClients.indexOf(1)] as SpawnedProxy;
  const hlsClient = ((await api(hlsHome.base, 'GET', `/streams/${hlsId}`, undefined, token)).body as { clients: Array<{ client_id: string }> }).clients[0]?.client_id ?? '';
  const kickOn = nodes.find((n) => n !== hlsHome) as SpawnedProxy;
  assert.equal((await api(kickOn.base, 'DELETE', `/hls/${hlsId}/clients/${hlsClient}`, undefined, token)).status, 200, 'kick through another node');
  assert.equal(((await api(hlsHome.base, 'GET', `/streams/${hlsId}`, undefined, token)).body as { clients: unknown[] }).clients.length, 0, 'the client is gone');

  // Every channel (but the last, kept for the Redis-down phase) watched on all three nodes, each node asked
  // directly: exactly one provider connection per channel.
  const watched = ids.slice(0, CHANNELS);
  const players = new Map<string, Player[]>();
  await Promise.all(
    watched.map(async (id) => {
      const list = await Promise.all(nodes.map((n) => openPlayer(t, `${n.base}/stream/${id}`)));
      players.set(id, list);
      await Promise.all(list.map((p) => p.waitBytes(5_000, 15_000)));
    }),
  );
  const open = openPerPath(origin);
  for (let i = 0; i < CHANNELS; i++) assert.equal(open.get(`/live/c${i}.ts`), 1, `one provider connection for channel ${i}`);
  assert.equal(origin.requests.filter((r) => r.path.startsWith('/live/')).length, CHANNELS, 'no channel was ever requested twice');

  // Once cluster-wide: stream_started by the owner only, client_connected by each viewer's node, none for relays.
  await receiver.until(() => receiver.ofType('client_connected').length >= watched.length * 3, 'client_connected of every viewer');
  await new Promise((r) => setTimeout(r, 300));
  for (const id of watched) {
    assert.equal(receiver.ofType('client_connected').filter((d) => d.event.stream_id === id).length, 3, `client_connected of ${id}`);
    assert.equal(receiver.ofType('stream_started').filter((d) => d.event.stream_id === id).length, 1, `stream_started of ${id}`);
  }

  // Viewer counts are cluster-wide: 3 per channel on every node (presence refreshes every 0.5 s).
  const deadlineCounts = performance.now() + 5_000;
  for (;;) {
    const all = await Promise.all(nodes.map(counts));
    if (all.every((m) => watched.every((id) => m.get(id) === 3))) break;
    assert.ok(performance.now() < deadlineCounts, `counts never agreed: ${JSON.stringify(all.map((m) => watched.map((id) => m.get(id))))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const node of nodes) {
    const r = await api(node.base, 'GET', '/streams/counts-by-metadata?field=provider&values=acct', undefined, token);
    assert.equal(r.status, 200);
    assert.deepEqual((r.body as { counts: Record<string, number> }).counts, { acct: CHANNELS }, `counts-by-metadata on ${node.base}`);
  }

  // A node that finds its lease taken (here: overwritten by hand) drops the provider connection at its next renew;
  // its viewers are cut and come back below, after the lease is free again.
  const store = new RedisClient(parseRedisUrl(redisUrl));
  t.after(() => store.close());
  await store.waitReady();
  const stolen = ids[CHANNELS - 1] ?? '';
  await store.command(['SET', `m3up:lease:{${stolen}}`, 'intruder|999999', 'PX', 60_000]);
  await waitFor(() => (openPerPath(origin).get(`/live/c${CHANNELS - 1}.ts`) ?? 0) === 0, LEASE_TTL_S * 1000, 'the upstream of a lost lease dropped');
  await store.command(['DEL', `m3up:lease:{${stolen}}`]);

  // A manual failover asked of a node that does not play the channel moves the owner's one upstream.
  const fo = await api(nodes[2]?.base ?? '', 'POST', '/streams', { url: origin.url('/live/fo-a.ts'), failover_urls: [origin.url('/live/fo-b.ts')] }, token);
  const foId = (fo.body as { stream_id: string }).stream_id;
  const foPlayer = await openPlayer(t, `${nodes[0]?.base}/stream/${foId}`);
  await foPlayer.waitBytes(5_000, 10_000);
  assert.equal(foPlayer.lastByte, 201);
  assert.equal((await api(nodes[1]?.base ?? '', 'POST', `/streams/${foId}/failover`, undefined, token)).status, 200);
  await waitFor(() => foPlayer.lastByte === 202, 5_000, 'the owner switched to the failover URL');
  foPlayer.leave();
  await waitFor(() => (openPerPath(origin).get('/live/fo-a.ts') ?? 0) + (openPerPath(origin).get('/live/fo-b.ts') ?? 0) === 0, 3_000, 'the failover channel closed');
  // Its next owner starts where the last one left it: on the failover URL.
  const foNext = await playUntilBytes(t, [`${nodes[1]?.base}/stream/${foId}`], 5_000);
  await foNext.waitBytes(2_000);
  assert.equal(foNext.lastByte, 202, 'the next owner starts on the failover URL');
  foNext.leave();

  // A delete on any node reaches the channel's owner: its provider connection closes and every node forgets it.
  const removed = ids[CHANNELS - 2] ?? '';
  const delOn = nodes[2] as SpawnedProxy;
  assert.equal((await api(delOn.base, 'DELETE', `/streams/${removed}`, undefined, token)).status, 200);
  await waitFor(() => (openPerPath(origin).get(`/live/c${CHANNELS - 2}.ts`) ?? 0) === 0, 3_000, 'the deleted channel\'s provider connection closed');
  for (const node of nodes) assert.equal((await api(node.base, 'GET', `/streams/${removed}`, undefined, token)).status, 404, `deleted on ${node.base}`);
  players.delete(removed);
  await receiver.until(() => receiver.ofType('stream_stopped').some((d) => d.event.stream_id === removed), 'stream_stopped of the deleted channel');
  await new Promise((r) => setTimeout(r, 300));
  const stops = receiver.ofType('stream_stopped').filter((d) => d.event.stream_id === removed);
  assert.deepEqual(stops.map((d) => d.event.data['reason']), ['manual_deletion'], 'one stream_stopped, from the owner');

  // /info says cluster mode is on, and never shows the Redis URL or the secrets.
  const info = await api(nodes[0]?.base ?? '', 'GET', '/info', undefined, token);
  assert.deepEqual((info.body as { redis: Record<string, unknown> }).redis['enabled'], true);
  assert.equal((info.body as { redis: Record<string, unknown> }).redis['sharing_strategy'], 'cluster_lease_per_stream');
  const infoText = JSON.stringify(info.body);
  assert.ok(!infoText.includes('redis://') && !infoText.includes(`:${redis.port}`) && !infoText.includes('cluster-e2e-secret'), '/info hides the store and secrets');

  // The relay route is for nodes only.
  const refused = await api(nodes[0]?.base ?? '', 'GET', `/internal/relay/${ids[0]}`);
  assert.equal(refused.status, 401);

  // The HLS client timed out (CLIENT_TIMEOUT 2 s here): its lease is released. One client_connected in all.
  for (let i = 0; Buffer.isBuffer(await store.command(['GET', `m3up:lease:{hls:${hlsId}}`])); i++) {
    assert.ok(i < 100, 'the HLS lease goes once its last client timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(receiver.ofType('client_connected').filter((d) => d.event.stream_id === hlsId).length, 1, 'one client_connected for the HLS client');

  // kill -9 the owner of channel 0: every viewer that lost its connection reconnects to a surviving node.
  const status = (await api(nodes[1]?.base ?? '', 'GET', '/cluster', undefined, token)).body as {
    nodes: Array<{ node: string; viewers: number }>;
    leases: Array<{ stream_id: string; kind: string; owner: string; epoch: number; expires_in_ms: number }>;
  };
  assert.equal(status.nodes.length, 3);
  const lease = status.leases.find((l) => l.stream_id === ids[0] && l.kind === 'continuous');
  assert.ok(lease !== undefined && lease.expires_in_ms > 0 && lease.expires_in_ms <= LEASE_TTL_S * 1000, 'channel 0 has a lease');
  // Node ids are host-pid-random.
  const ownerPid = Number(lease.owner.split('-').at(-2));
  const owner = nodes.find((n) => n.child.pid === ownerPid);
  assert.ok(owner, `the lease names one of the nodes (${lease.owner})`);
  const survivors = nodes.filter((n) => n !== owner);
  const killedAt = performance.now();
  owner.child.kill('SIGKILL');
  await owner.exited;
  // Cut players: the owner's own viewers, and the other nodes' viewers of the channels it owned (relays broke).
  await new Promise((r) => setTimeout(r, 300));
  const cut: Array<[string, number]> = [];
  for (const [id, list] of players) list.forEach((p, i) => p.res.destroyed || p.res.readableEnded ? cut.push([id, i]) : undefined);
  assert.ok(cut.some(([id]) => id === ids[0]), 'channel 0 viewers were cut');
  const back = await Promise.all(
    cut.map(async ([id]) => {
      await playUntilBytes(t, survivors.map((n) => `${n.base}/stream/${id}`), (LEASE_TTL_S + 6) * 1000);
      return performance.now() - killedAt;
    }),
  );
  const worst = Math.max(...back);
  console.log(`failover after kill -9: ${cut.length} cut viewers all playing again within ${Math.round(worst)} ms (lease TTL ${LEASE_TTL_S} s)`);
  await waitFor(() => [...openPerPath(origin).values()].every((n) => n === 1), 5_000, 'one provider connection per channel after failover');
  assert.equal(openPerPath(origin).size, CHANNELS - 1, 'every channel still watched has its one provider connection');
  // The dead node leaves the node set once its key expired; counts no longer include its viewers.
  for (let i = 0; (await store.command(['SCARD', 'm3up:nodes'])) !== 2; i++) {
    assert.ok(i < 50, 'the dead node left the node set');
    await new Promise((r) => setTimeout(r, 100));
  }
  const still = watched.filter((id) => id !== removed);
  for (let i = 0; ; i++) {
    const all = await Promise.all(survivors.map(counts));
    if (all.every((m) => still.every((id) => m.get(id) === 3))) break;
    assert.ok(i < 50, `counts after the failover: ${JSON.stringify(all.map((m) => still.map((id) => m.get(id))))}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // Redis stopped: a channel nobody watches yet is refused with 503; the running ones keep playing past the lease.
  const running = survivors.map((n) => players.get(watched[1] ?? '')?.[nodes.indexOf(n)]).filter((p): p is Player => p !== undefined && !p.res.destroyed);
  await redis.stop();
  const spare = ids[CHANNELS] ?? '';
  const down = await fetch(`${survivors[0]?.base}/stream/${spare}`);
  assert.equal(down.status, 503);
  assert.equal(((await down.json()) as { code?: string }).code, 'CLUSTER_UNAVAILABLE');
  const before = running.map((p) => p.bytes);
  await new Promise((r) => setTimeout(r, (LEASE_TTL_S + 1) * 1000));
  running.forEach((p, i) => assert.ok(p.bytes > (before[i] ?? 0) + 10_000, 'an existing channel plays on while Redis is down'));

  // Redis back: the nodes reconnect by themselves and the new channel plays.
  await redis.startProcess();
  // The store came back empty: the nodes write back the definitions they know.
  const store2 = new RedisClient(parseRedisUrl(redisUrl));
  t.after(() => store2.close());
  await store2.waitReady();
  const late = await playUntilBytes(t, survivors.map((n) => `${n.base}/stream/${spare}`), 10_000);
  assert.ok(late.bytes > 0);
  await waitFor(() => (openPerPath(origin).get(`/live/c${CHANNELS}.ts`) ?? 0) === 1, 2_000, 'one provider connection for the new channel');
  // The channel that played on through the outage holds its lease again (renewed, or taken back in the empty store).
  for (let i = 0; !Buffer.isBuffer(await store2.command(['GET', `m3up:lease:{${watched[1]}}`])); i++) {
    assert.ok(i < 50, 'the running channel took its lease back');
    await new Promise((r) => setTimeout(r, 100));
  }
  // Everything but the deleted channel, plus the HLS, file and failover streams.
  const expected = ids.length + 2;
  for (let i = 0; (await store2.command(['SCARD', 'm3up:streams'])) !== expected; i++) {
    assert.ok(i < 50, `definitions written back to the restarted store: ${String(await store2.command(['SCARD', 'm3up:streams']))} of ${expected}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});
