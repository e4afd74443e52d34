// Cluster-mode test pieces (SPEC §16): proxy nodes as child processes on one redis-server, the origin's live
// provider connections per channel, and a player that retries until bytes arrive (as real players do).
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Origin } from './origin.ts';
import { openPlayer, type Player } from './player.ts';
import { cleanEnv, spawnProxy, type SpawnedProxy } from './spawn-proxy.ts';
import { api } from './start-proxy.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'src', 'main.ts');
export const CLUSTER_SECRET = 'cluster-e2e-secret-0123456789';
/** Seconds: short, so that a failover test waits little. */
export const LEASE_TTL_S = 2;
/** The management API token of every node. */
export const token = { 'x-api-token': 'tok' };

/** One proxy node on a free loopback port, in cluster mode on `redisUrl`. */
export function startNode(t: TestContext, redisUrl: string): Promise<SpawnedProxy> {
  // HLS clients time out after 2 s (swept every second), so that an HLS lease is seen to go within a test.
  const env = cleanEnv({ CLUSTER_REDIS_URL: redisUrl, CLUSTER_SECRET, CLUSTER_LEASE_TTL: String(LEASE_TTL_S), API_TOKEN: 'tok', CLIENT_TIMEOUT: '2', CLEANUP_INTERVAL: '1' });
  return spawnProxy(t, process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env });
}

/** client_count per stream id, as GET /streams on `node` answers it. */
export async function counts(node: SpawnedProxy): Promise<Map<string, number>> {
  const r = await api(node.base, 'GET', '/streams', undefined, token);
  assert.equal(r.status, 200);
  return new Map((r.body as { streams: Array<{ stream_id: string; client_count: number }> }).streams.map((s) => [s.stream_id, s.client_count]));
}

/** Live provider connections open right now, per channel path (HLS requests leave kept-alive sockets: not counted). */
export function openPerPath(origin: Origin): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of origin.requests) if (r.path.startsWith('/live/') && !r.isSocketClosed()) m.set(r.path, (m.get(r.path) ?? 0) + 1);
  return m;
}

/** Plays the urls in turn, retrying a refused or cut attempt, until bytes arrive; bounded by `timeoutMs`. */
export async function playUntilBytes(t: TestContext, urls: string[], timeoutMs: number): Promise<Player> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; performance.now() < deadline; i++) {
    const url = urls[i % urls.length] ?? '';
    try {
      const p = await openPlayer(t, url);
      if (p.res.statusCode === 200) {
        await p.waitBytes(1, Math.max(1, deadline - performance.now()));
        return p;
      }
      p.leave();
    } catch (err) {
      // Refused (the node is dead) or cut before a byte: try again.
      void err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no bytes from ${urls.join(', ')} within ${timeoutMs} ms`);
}
