// SPEC §16 routing: the shipped deploy/cluster/nginx.conf in front of three nodes (its server lines and listen port
// pointed at loopback ports, nothing else changed). Every viewer of a channel lands on one node, which is the
// channel's owner, so no relay is needed and each channel has one provider connection; after that node is killed,
// nginx sends the reconnecting viewers to the next node of the ring, which takes the channel over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempPaths } from '../bench/nginx.ts';
import { LEASE_TTL_S, openPerPath, playUntilBytes, startNode, token } from '../helpers/cluster.ts';
import { tempDir, trackChild } from '../helpers/children.ts';
import { requireNginx } from '../helpers/nginx.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { openPlayer, type Player } from '../helpers/player.ts';
import { freePort, RedisServer, requireRedis } from '../helpers/redis-server.ts';
import { REPO_ROOT } from '../helpers/doc-blocks.ts';
import { api } from '../helpers/start-proxy.ts';

const CHANNELS = 6;
const VIEWERS = 3;

test('§16 deploy/cluster/nginx.conf: a channel\'s viewers land on its owner; after kill -9 the ring moves them', { timeout: 60_000 }, async (t) => {
  const nginx = requireNginx(t);
  if (nginx === undefined || !requireRedis(t)) return;
  const redis = await RedisServer.start();
  t.after(() => redis.stop());
  const routes: Record<string, { kind: 'live'; chunkBytes: number; intervalMs: number; fill: number }> = {};
  for (let i = 0; i < CHANNELS; i++) routes[`/live/c${i}.ts`] = { kind: 'live', chunkBytes: 1880, intervalMs: 20, fill: i };
  const origin = await startOrigin(t, routes);
  const nodes = await Promise.all([0, 1, 2].map(() => startNode(t, `redis://127.0.0.1:${redis.port}`)));

  // The sample as shipped, but for where the nodes and nginx listen, and where nginx keeps its files.
  const prefix = await tempDir(t, 'm3u-cluster-nginx-');
  for (const dir of ['client_body', 'proxy_temp', 'fastcgi_temp', 'uwsgi_temp', 'scgi_temp']) mkdirSync(join(prefix, dir));
  const lbPort = await freePort();
  let conf = readFileSync(join(REPO_ROOT, 'deploy/cluster/nginx.conf'), 'utf8');
  nodes.forEach((n, i) => (conf = conf.replace(`server node${i + 1}:8085`, `server 127.0.0.1:${n.port}`)));
  conf = conf.replace('listen 8085;', `listen 127.0.0.1:${lbPort};`).replace('http {', `http {\n${tempPaths(prefix)}`);
  conf = `daemon off;\npid ${join(prefix, 'nginx.pid')};\nerror_log ${join(prefix, 'error.log')} warn;\n${conf.replace('worker_processes auto;', 'worker_processes 2;')}`;
  assert.ok(!/node\d:8085|listen 8085/.test(conf), 'every node and the listen port replaced');
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const child = trackChild(t, spawn(nginx, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { stdio: 'ignore' }));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  await waitFor(() => existsSync(join(prefix, 'nginx.pid')) || child.exitCode !== null, 5_000, 'nginx to start');
  assert.equal(child.exitCode, null, `nginx runs the sample configuration: ${existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : ''}`);
  const lb = `http://127.0.0.1:${lbPort}`;
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
  console.log(`failover through nginx after kill -9: ${moved.length} channels x ${VIEWERS} viewers playing again within ${Math.round(performance.now() - killedAt)} ms`);
  await waitFor(() => moved.every((id) => openPerPath(origin).get(`/live/c${ids.indexOf(id)}.ts`) === 1), 5_000, 'one provider connection per moved channel');
});
