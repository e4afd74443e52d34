// GET /cluster (SPEC §16): what the cluster store says right now: the living nodes with their viewers, and every
// lease with its holder, fencing epoch and time left. Read from Redis on each call; for operators and tests.
import { RedisError } from '../../core/redis/errors.ts';
import { ClusterUnavailableError } from '../../errors.ts';
import { clusterKeys, PREFIX } from './keys.ts';
import type { ClusterLink } from './link.ts';

export interface ClusterStatus {
  node: string;
  nodes: Array<{ node: string; url: string; viewers: number }>;
  leases: Array<{ stream_id: string; kind: 'continuous' | 'hls'; owner: string; epoch: number; expires_in_ms: number }>;
}

/** SCAN rounds at most: a store with more leases than this many thousands is not one this proxy made. */
const MAX_SCAN_ROUNDS = 1_000;

export async function clusterStatus(link: ClusterLink): Promise<ClusterStatus> {
  const { redis } = link;
  try {
    const members = await redis.command(['SMEMBERS', clusterKeys.nodes]);
    const ids = (Array.isArray(members) ? members : []).filter(Buffer.isBuffer).map((b) => b.toString());
    const [urls, loads] = ids.length === 0 ? [[], []] : await Promise.all([redis.command(['MGET', ...ids.map(clusterKeys.node)]), redis.command(['MGET', ...ids.map(clusterKeys.load)])]);
    const nodes: ClusterStatus['nodes'] = [];
    ids.forEach((node, i) => {
      const url = Array.isArray(urls) ? urls[i] : undefined;
      const load = Array.isArray(loads) ? loads[i] : undefined;
      if (!Buffer.isBuffer(url)) return; // expired: dead
      const counts = Buffer.isBuffer(load) ? (JSON.parse(load.toString('utf8')) as Record<string, number>) : {};
      nodes.push({ node, url: url.toString(), viewers: Object.values(counts).reduce((a, b) => a + b, 0) });
    });
    const keys: string[] = [];
    let cursor = '0';
    for (let round = 0; round < MAX_SCAN_ROUNDS; round++) {
      const reply = await redis.command(['SCAN', cursor, 'MATCH', `${PREFIX}lease:*`, 'COUNT', 1000]);
      if (!Array.isArray(reply) || !Buffer.isBuffer(reply[0]) || !Array.isArray(reply[1])) break;
      cursor = reply[0].toString();
      for (const k of reply[1]) if (Buffer.isBuffer(k)) keys.push(k.toString());
      if (cursor === '0') break;
    }
    const leases: ClusterStatus['leases'] = [];
    const values = await Promise.all(keys.map((k) => Promise.all([redis.command(['GET', k]), redis.command(['PTTL', k])])));
    keys.forEach((key, i) => {
      const [value, ttl] = values[i] ?? [];
      if (!Buffer.isBuffer(value) || typeof ttl !== 'number' || ttl < 0) return; // released or expired meanwhile
      const inner = /\{(.*)\}$/.exec(key)?.[1] ?? '';
      const [owner = '', epoch = '0'] = value.toString().split('|');
      const hls = inner.startsWith('hls:');
      leases.push({ stream_id: hls ? inner.slice(4) : inner, kind: hls ? 'hls' : 'continuous', owner, epoch: Number(epoch), expires_in_ms: ttl });
    });
    leases.sort((a, b) => a.stream_id.localeCompare(b.stream_id));
    return { node: link.nodeId, nodes, leases };
  } catch (err) {
    if (err instanceof RedisError) throw new ClusterUnavailableError();
    throw err;
  }
}
