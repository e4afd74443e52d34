// SPEC §16 settings: CLUSTER_REDIS_URL turns cluster mode on and then needs CLUSTER_SECRET; unset, no cluster field
// at all (single node, as before).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServerArgs, type Config } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';

function config(env: Record<string, string>): Config {
  const cmd = parseServerArgs([], env);
  assert.equal(cmd.kind, 'run');
  return cmd.config;
}

test('no CLUSTER_REDIS_URL: no cluster configuration (one node)', () => {
  assert.equal(config({}).cluster, undefined);
  assert.ok(!('cluster' in config({ CLUSTER_SECRET: 'x'.repeat(20) })));
});

test('cluster mode: the URL, the secret, the node URL and the lease time', () => {
  const c = config({ CLUSTER_REDIS_URL: 'redis://:pw@10.0.0.5:6380/2', CLUSTER_SECRET: 's'.repeat(16), CLUSTER_NODE_URL: 'http://node1:8085/', CLUSTER_LEASE_TTL: '2.5' });
  assert.deepEqual(c.cluster, { redisUrl: 'redis://:pw@10.0.0.5:6380/2', secret: 's'.repeat(16), nodeUrl: 'http://node1:8085', leaseTtlMs: 2500 });
  assert.deepEqual(config({ CLUSTER_REDIS_URL: 'rediss://cache:6379', CLUSTER_SECRET: 's'.repeat(16) }).cluster, {
    redisUrl: 'rediss://cache:6379',
    secret: 's'.repeat(16),
    nodeUrl: undefined,
    leaseTtlMs: 10_000,
  });
});

test('cluster mode refuses a missing or short secret and a URL that is not redis:// — without echoing secrets', () => {
  const bad = (env: Record<string, string>, re: RegExp) => assert.throws(() => parseServerArgs([], env), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  bad({ CLUSTER_REDIS_URL: 'redis://r:6379' }, /CLUSTER_REDIS_URL: cluster mode needs CLUSTER_SECRET/);
  bad({ CLUSTER_REDIS_URL: 'redis://r:6379', CLUSTER_SECRET: 'short' }, /^invalid CLUSTER_SECRET: cluster mode needs CLUSTER_SECRET of at least 16/);
  bad({ CLUSTER_REDIS_URL: 'http://:hunter2@r:6379', CLUSTER_SECRET: 's'.repeat(16) }, /^invalid CLUSTER_REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL$/);
  bad({ CLUSTER_REDIS_URL: 'redis://r', CLUSTER_SECRET: 's'.repeat(16), CLUSTER_NODE_URL: 'node1:8085' }, /CLUSTER_NODE_URL: must be an absolute http\(s\) URL/);
  bad({ CLUSTER_REDIS_URL: 'redis://r', CLUSTER_SECRET: 's'.repeat(16), CLUSTER_LEASE_TTL: '0' }, /CLUSTER_LEASE_TTL/);
});
