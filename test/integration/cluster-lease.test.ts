import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisClient } from '../../src/core/redis/client.ts';
import { parseRedisUrl } from '../../src/core/redis/url.ts';
import { acquireLease, leaseKeys, LeaseKeeper, releaseLease, renewLease } from '../../src/services/cluster/lease.ts';
import { waitFor } from '../helpers/origin.ts';
import { RedisServer, requireRedis } from '../helpers/redis-server.ts';

async function twoNodes(t: import('node:test').TestContext): Promise<{ server: RedisServer; a: RedisClient; b: RedisClient }> {
  const server = await RedisServer.start();
  t.after(() => server.stop());
  const target = parseRedisUrl(`redis://127.0.0.1:${server.port}`);
  const a = new RedisClient(target, { commandTimeoutMs: 300, reconnectBaseMs: 20, reconnectMaxMs: 100 });
  const b = new RedisClient(target);
  t.after(() => {
    a.close();
    b.close();
  });
  await Promise.all([a.waitReady(), b.waitReady()]);
  return { server, a, b };
}

test('lease: of two nodes contending exactly one wins; the other acquires after release, with a larger epoch', async (t) => {
  if (!requireRedis(t)) return;
  const { a, b } = await twoNodes(t);
  const keys = leaseKeys('m3up:', 'ch1');
  const [la, lb] = await Promise.all([acquireLease(a, keys, 'n1', 5_000), acquireLease(b, keys, 'n2', 5_000)]);
  assert.equal([la, lb].filter((l) => l !== undefined).length, 1, 'exactly one winner');
  const winner = (la ?? lb)!;
  const loserClient = la === undefined ? a : b;
  const loserName = la === undefined ? 'n1' : 'n2';
  assert.equal(winner.epoch, 1);
  assert.equal(await acquireLease(loserClient, keys, loserName, 5_000), undefined);
  assert.equal(await renewLease(loserClient, { ...winner, owner: loserName, value: `${loserName}|1` }, 5_000), false, 'a non-owner cannot renew');
  assert.equal(await releaseLease(loserClient, { ...winner, owner: loserName, value: `${loserName}|1` }), false, 'a non-owner cannot release');
  assert.equal(await renewLease(la === undefined ? b : a, winner, 5_000), true);
  assert.equal(await releaseLease(la === undefined ? b : a, winner), true);
  const next = await acquireLease(loserClient, keys, loserName, 5_000);
  assert.ok(next !== undefined);
  assert.equal(next.epoch, 2, 'fencing token increases');
  assert.equal(await releaseLease(la === undefined ? b : a, winner), false, 'the old owner cannot release the new lease');
});

test('lease: when the owner stops renewing, the lease expires and the other node acquires it', async (t) => {
  if (!requireRedis(t)) return;
  const { a, b } = await twoNodes(t);
  const keys = leaseKeys('m3up:', 'ch2');
  const held = await acquireLease(a, keys, 'n1', 300);
  assert.ok(held !== undefined);
  let taken: Awaited<ReturnType<typeof acquireLease>>;
  for (let i = 0; i < 100 && taken === undefined; i++) {
    taken = await acquireLease(b, keys, 'n2', 5_000);
    if (taken === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(taken !== undefined, 'n2 acquired after n1 stopped renewing');
  assert.equal(taken.epoch, 2);
  assert.equal(await renewLease(a, held, 5_000), false, 'the expired owner cannot renew');
});

test('lease keeper: renews while Redis is up; calls onLost before the TTL when Redis stops; leaves no timer', async (t) => {
  if (!requireRedis(t)) return;
  const { server, a, b } = await twoNodes(t);
  const keys = leaseKeys('m3up:', 'ch3');
  const ttlMs = 1_000;
  const held = await acquireLease(a, keys, 'n1', ttlMs);
  assert.ok(held !== undefined);
  let lostAt: number | undefined;
  let reason = '';
  const keeper = new LeaseKeeper(a, held, { ttlMs, renewEveryMs: 100, safetyMs: 300, onLost: (r) => { lostAt = performance.now(); reason = r; } });
  t.after(() => keeper.stop(false));
  // Three TTLs later the lease is still held: the keeper renewed it.
  await new Promise((r) => setTimeout(r, 3 * ttlMs));
  assert.equal(lostAt, undefined);
  assert.equal(await acquireLease(b, keys, 'n2', ttlMs), undefined, 'still held thanks to renewals');
  const pttl = await b.command(['PTTL', keys.lease]);
  assert.ok(typeof pttl === 'number' && pttl > 0);
  // A paused server keeps the lease but answers nothing: the keeper must give up while the lease still exists.
  server.pause();
  await waitFor(() => lostAt !== undefined, 5_000, 'onLost');
  server.resume();
  assert.match(reason, /could not be renewed/);
  assert.equal(keeper.active, false);
  const left = await b.command(['PTTL', keys.lease]);
  assert.ok(typeof left === 'number' && left > 0, `the lease was still in Redis when onLost ran (PTTL ${String(left)})`);
  await server.stop();
});

test('lease keeper: onLost when another owner took the lease; stop(true) releases', async (t) => {
  if (!requireRedis(t)) return;
  const { a, b } = await twoNodes(t);
  const keys = leaseKeys('m3up:', 'ch4');
  const held = await acquireLease(a, keys, 'n1', 5_000);
  assert.ok(held !== undefined);
  let reason = '';
  const keeper = new LeaseKeeper(a, held, { ttlMs: 5_000, renewEveryMs: 50, safetyMs: 1_000, onLost: (r) => { reason = r; } });
  t.after(() => keeper.stop(false));
  await b.command(['SET', keys.lease, 'n2|99']);
  await waitFor(() => reason !== '', 3_000, 'onLost');
  assert.match(reason, /another owner/);
  const again = await acquireLease(a, leaseKeys('m3up:', 'ch5'), 'n1', 5_000);
  assert.ok(again !== undefined);
  const k2 = new LeaseKeeper(a, again, { ttlMs: 5_000, renewEveryMs: 50, safetyMs: 1_000, onLost: () => assert.fail('not lost') });
  await k2.stop(true);
  assert.equal(await b.command(['EXISTS', again.keys.lease]), 0, 'released');
});
