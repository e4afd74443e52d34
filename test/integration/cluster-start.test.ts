// SPEC §16 start-up: a node whose Redis is not there yet waits for it (and says so in its log) instead of starting
// as a single node, then serves once Redis answers.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLUSTER_SECRET } from '../helpers/cluster.ts';
import { freePort, RedisServer, requireRedis } from '../helpers/redis-server.ts';
import { cleanEnv, spawnProxy } from '../helpers/spawn-proxy.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('§16 a node waits for its Redis at start-up, then listens', { timeout: 30_000 }, async (t) => {
  if (!requireRedis(t)) return;
  const port = await freePort();
  const redis = new RedisServer(port);
  t.after(() => redis.stop());
  const env = cleanEnv({ CLUSTER_REDIS_URL: `redis://127.0.0.1:${port}`, CLUSTER_SECRET });
  const starting = spawnProxy(t, process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts')], { cwd: ROOT, env });
  let listening = false;
  void starting.then(() => (listening = true), () => undefined);
  // Long enough for the node to log that it waits (every 2 s) and to prove it does not listen meanwhile.
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal(listening, false, 'no listening before Redis answers');
  await redis.startProcess();
  const node = await starting;
  assert.match(node.log(), /waiting for the cluster store/);
  assert.match(node.log(), /cluster store connected/);
  const live = await fetch(`${node.base}/livez`);
  assert.equal(live.status, 200);
});
