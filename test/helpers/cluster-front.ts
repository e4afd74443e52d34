// The routing scenario of SPEC §16, run through a shipped front end (deploy/cluster/nginx.conf, haproxy.cfg): every
// viewer of a channel lands on one node, which owns it (no relay); a "delete unless watched" and the leaving viewer's
// kick act across nodes; after kill -9 of the busiest node the front end sends its viewers to a survivor.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { LEASE_TTL_S, openPerPath, playUntilBytes, startNode, token } from './cluster.ts';
import { startOrigin, waitFor, type Origin } from './origin.ts';
import { RedisServer } from './redis-server.ts';
import { openPlayer, type Player } from './player.ts';
import type { SpawnedProxy } from './spawn-proxy.ts';
import { api } from './start-proxy.ts';

export const FRONT_CHANNELS = 6;
const VIEWERS = 3;

/** One redis-server, an origin with FRONT_CHANNELS live channels and three cluster nodes; all stopped in t.after. */
export async function startFrontCluster(t: TestContext): Promise<{ origin: Origin; nodes: SpawnedProxy[] }> {
  const redis = await RedisServer.start();
  t.after(() => redis.stop());
  const routes: Record<string, { kind: 'live'; chunkBytes: number; intervalMs: number; fill: number }> = {};
  for (let i = 0; i < FRONT_CHANNELS; i++) routes[`/live/c${i}.ts`] = { kind: 'live', chunkBytes: 1880, intervalMs: 20, fill: i };
  const origin = await startOrigin(t, routes);
  const nodes = await Promise.all([0, 1, 2].map(() => startNode(t, `redis://127.0.0.1:${redis.port}`)));
  return { origin, nodes };
}

/** `lb`: the front end's base URL; `origin` serves /live/c0.ts ... /live/c5.ts; `nodes` are three cluster nodes. */
export async function frontScenario(t: TestContext, name: string, lb: string, origin: Origin, nodes: SpawnedProxy[]): Promise<void> {
  const CHANNELS = FRONT_CHANNELS;
  assert.equal((await fetch(`${lb}/internal/relay/${'0'.repeat(32)}`)).status, 404, 'the relay route is closed at the front');
  const ids: string[] = [];
  for (let i = 0; i < CHANNELS; i++) {
    const r = await api(lb, 'POST', '/streams', { url: origin.url(`/live/c${i}.ts`), metadata: { provider: 'p' } }, token);
    assert.equal(r.status, 200);
    ids.push((r.body as { stream_id: string }).stream_id);
  }
  const players = new Map<string, Player[]>();
  for (const id of ids) {
    const list = await Promise.all(Array.from({ length: VIEWERS }, () => openPlayer(t, `${lb}/stream/${id}`)));
    await Promise.all(list.map((p) => p.waitBytes(2_000, 10_000)));
    players.set(id, list);
  }
  for (let i = 0; i < CHANNELS; i++) assert.equal(openPerPath(origin).get(`/live/c${i}.ts`), 1, `one provider connection for channel ${i}`);

  // Each channel's viewers are all on one node (its clients there, none elsewhere): no relay was needed.
  const home = new Map<string, number>();
  for (const id of ids) {
    const local = await Promise.all(nodes.map(async (n) => ((await api(n.base, 'GET', `/streams/${id}`, undefined, token)).body as { clients: unknown[] }).clients.length));
    assert.deepEqual([...local].sort(), [0, 0, VIEWERS], `channel ${id} viewers per node: ${local.join(',')}`);
    home.set(id, local.indexOf(VIEWERS));
  }

  // The editor's "delete unless watched" asked of a node without viewers of most channels: nothing is deleted,
  // since the viewers on the other nodes count.
  for (let i = 0; ; i++) {
    const all = (await api(nodes[0]?.base ?? '', 'GET', '/streams', undefined, token)).body as { streams: Array<{ client_count: number }> };
    if (all.streams.every((s) => s.client_count === VIEWERS)) break;
    assert.ok(i < 50, 'node 0 sees every channel\'s viewers');
    await new Promise((res) => setTimeout(res, 100));
  }
  const kept = await api(nodes[0]?.base ?? '', 'DELETE', '/streams/by-metadata?field=provider&value=p&force=false', undefined, token);
  assert.equal(kept.status, 200);
  const answer = kept.body as { deleted_count: number; skipped_streams: Array<{ reason: string; active_clients: number }> };
  assert.equal(answer.deleted_count, 0);
  assert.deepEqual(answer.skipped_streams.map((s) => [s.reason, s.active_clients]), ids.map(() => ['has_active_clients', VIEWERS]));

  // The in-app player's "I am leaving" (client_id, force=false) asked of node 0 reaches the node the viewer is on.
  const away = ids.find((id) => home.get(id) !== 0) ?? '';
  const awayHome = nodes[home.get(away) ?? 0]?.base ?? '';
  const leaving = ((await api(awayHome, 'GET', `/streams/${away}`, undefined, token)).body as { clients: Array<{ client_id: string }> }).clients[0]?.client_id ?? '';
  const left = await api(nodes[0]?.base ?? '', 'DELETE', `/streams/by-metadata?field=provider&value=p&force=false&client_id=${leaving}`, undefined, token);
  assert.equal(left.status, 200);
  const kicked = players.get(away) ?? [];
  await waitFor(() => kicked.every((p) => p.res.destroyed || p.res.readableEnded), 3_000, 'the leaving viewer\'s sessions ended');
  await waitFor(() => (openPerPath(origin).get(`/live/c${ids.indexOf(away)}.ts`) ?? 0) === 0, 3_000, 'the kicked viewers\' channel closed');

  // kill -9 the node with the most channels; its viewers come back through nginx within the lease time.
  const load = [0, 1, 2].map((i) => [...home.values()].filter((h) => h === i).length);
  const victim = load.indexOf(Math.max(...load));
  const moved = ids.filter((id) => home.get(id) === victim);
  const killedAt = performance.now();
  nodes[victim]?.child.kill('SIGKILL');
  await nodes[victim]?.exited;
  await Promise.all(moved.map((id) => Promise.all(Array.from({ length: VIEWERS }, () => playUntilBytes(t, [`${lb}/stream/${id}`], (LEASE_TTL_S + 8) * 1000)))));
  console.log(`failover through ${name} after kill -9: ${moved.length} channels x ${VIEWERS} viewers playing again within ${Math.round(performance.now() - killedAt)} ms`);
  await waitFor(() => moved.every((id) => openPerPath(origin).get(`/live/c${ids.indexOf(id)}.ts`) === 1), 5_000, 'one provider connection per moved channel');
}
