import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisClient } from '../../src/core/redis/client.ts';
import { RedisError, RedisReplyError } from '../../src/core/redis/errors.ts';
import { RedisSubscriber } from '../../src/core/redis/subscriber.ts';
import { parseRedisUrl } from '../../src/core/redis/url.ts';
import { waitFor } from '../helpers/origin.ts';
import { RedisServer, requireRedis } from '../helpers/redis-server.ts';


test('Redis client: pipelining order, binary values, errors, EVALSHA/NOSCRIPT', async (t) => {
  if (!requireRedis(t)) return;
  const server = await RedisServer.start();
  t.after(() => server.stop());
  const c = new RedisClient(parseRedisUrl(`redis://127.0.0.1:${server.port}`));
  t.after(() => c.close());
  await c.waitReady();
  const n = 500;
  const replies = await Promise.all(Array.from({ length: n }, (_, i) => c.command(['INCR', 'ctr']).then((v) => [i, v])));
  for (const [i, v] of replies) assert.equal(v, (i as number) + 1);
  const bin = Buffer.from([0, 13, 10, 255]);
  assert.equal(await c.command(['SET', 'b', bin]), 'OK');
  assert.deepEqual(await c.command(['GET', 'b']), bin);
  assert.equal(await c.command(['GET', 'missing']), null);
  await assert.rejects(c.command(['LPUSH', 'b', 'x']), (e: unknown) => e instanceof RedisReplyError && e.prefix === 'WRONGTYPE');
  await c.command(['SCRIPT', 'FLUSH']);
  assert.equal(await c.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", ['ctr'], [10]), n + 10);
  assert.equal(await c.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", ['ctr'], [1]), n + 11);
  await c.quit();
  await assert.rejects(c.command(['PING']), (e: unknown) => e instanceof RedisError && e.code === 'REDIS_CLOSED');
});

test('Redis client: AUTH with password and ACL user, SELECT on the URL database', async (t) => {
  if (!requireRedis(t)) return;
  const server = await RedisServer.start('s3cret');
  t.after(() => server.stop());
  const c = new RedisClient(parseRedisUrl(`redis://:s3cret@127.0.0.1:${server.port}/3`));
  t.after(() => c.close());
  await c.waitReady();
  await c.command(['SET', 'k', 'in-3']);
  const acl = new RedisClient(parseRedisUrl(`redis://default:s3cret@127.0.0.1:${server.port}/0`));
  t.after(() => acl.close());
  await acl.waitReady();
  assert.equal(await acl.command(['GET', 'k']), null);
  assert.deepEqual(await acl.command(['SELECT', 3]).then(() => acl.command(['GET', 'k'])), Buffer.from('in-3'));
  const wrong = new RedisClient(parseRedisUrl(`redis://:nope@127.0.0.1:${server.port}`));
  t.after(() => wrong.close());
  await assert.rejects(wrong.waitReady(), (e: unknown) => e instanceof RedisReplyError && e.prefix === 'WRONGPASS');
});

test('Redis client: fails fast while Redis is down, reconnects (AUTH and SELECT again) after a restart', async (t) => {
  if (!requireRedis(t)) return;
  const server = await RedisServer.start('pw');
  t.after(() => server.stop());
  const c = new RedisClient(parseRedisUrl(`redis://:pw@127.0.0.1:${server.port}/2`), { reconnectBaseMs: 20, reconnectMaxMs: 100 });
  t.after(() => c.close());
  await c.waitReady();
  await server.stop();
  await waitFor(() => !c.connected, 5_000, 'client sees the loss');
  await assert.rejects(c.command(['PING']), (e: unknown) => e instanceof RedisError && e.code === 'REDIS_UNAVAILABLE');
  await server.startProcess();
  await waitFor(() => c.connected, 5_000, 'client reconnects');
  await c.command(['SET', 'x', '1']);
  const other = new RedisClient(parseRedisUrl(`redis://:pw@127.0.0.1:${server.port}/2`));
  t.after(() => other.close());
  await other.waitReady();
  assert.deepEqual(await other.command(['GET', 'x']), Buffer.from('1'), 'SELECT ran again on reconnect');
});

test('Redis client: a command without a reply fails with REDIS_TIMEOUT', async (t) => {
  if (!requireRedis(t)) return;
  const server = await RedisServer.start();
  t.after(() => server.stop());
  const c = new RedisClient(parseRedisUrl(`redis://127.0.0.1:${server.port}`), { commandTimeoutMs: 200 });
  t.after(() => c.close());
  await c.waitReady();
  await assert.rejects(c.command(['BLPOP', 'never', '0']), (e: unknown) => e instanceof RedisError && e.code === 'REDIS_TIMEOUT');
});

test('Redis subscriber: messages and pattern messages; resubscribes after redis-server restarts', async (t) => {
  if (!requireRedis(t)) return;
  const server = await RedisServer.start('pw');
  t.after(() => server.stop());
  const target = parseRedisUrl(`redis://:pw@127.0.0.1:${server.port}`);
  const got: string[] = [];
  const sub = new RedisSubscriber(target, (ch, msg, pat) => got.push(`${pat ?? ''}>${ch}:${msg.toString()}`), 100);
  t.after(() => sub.close());
  const pub = new RedisClient(target, { reconnectBaseMs: 20, reconnectMaxMs: 100 });
  t.after(() => pub.close());
  await pub.waitReady();
  await waitFor(() => sub.connected, 5_000, 'subscriber connected');
  sub.subscribe('a');
  sub.psubscribe('p.*');
  await waitFor(() => { void pub.command(['PUBLISH', 'a', 'x']).catch(() => undefined); return got.length > 0; }, 5_000, 'first message');
  got.length = 0;
  await pub.command(['PUBLISH', 'p.1', 'y']);
  await waitFor(() => got.includes('p.*>p.1:y'), 5_000, 'pattern message');
  sub.unsubscribe('a');
  await server.restart();
  await waitFor(() => pub.connected && sub.connected, 5_000, 'both reconnect');
  got.length = 0;
  await waitFor(() => { void pub.command(['PUBLISH', 'p.2', 'z']).catch(() => undefined); return got.includes('p.*>p.2:z'); }, 5_000, 'message after resubscribe');
  await pub.command(['PUBLISH', 'a', 'gone']);
  await pub.command(['PING']);
  assert.ok(!got.some((g) => g.endsWith(':gone')), 'unsubscribed channel not resubscribed');
});
