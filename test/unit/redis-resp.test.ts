import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeCommand } from '../../src/core/redis/resp-encode.ts';
import { RespErrorReply, RespParser, type RespValue } from '../../src/core/redis/resp-parser.ts';
import { parseRedisUrl } from '../../src/core/redis/url.ts';

function parseAll(chunks: Buffer[]): RespValue[] {
  const out: RespValue[] = [];
  const p = new RespParser((v) => out.push(v));
  for (const c of chunks) p.push(c);
  return out;
}

const big = Buffer.alloc(100_000, 7);
big[500] = 13;
big[501] = 10;
const wire = Buffer.concat([
  Buffer.from('+OK\r\n+\r\n-ERR wrong type\r\n:0\r\n:-42\r\n:1234567\r\n$3\r\nfoo\r\n$0\r\n\r\n$-1\r\n$4\r\na\r\nb\r\n*-1\r\n*0\r\n'),
  Buffer.from('*3\r\n$1\r\nx\r\n*2\r\n:1\r\n*1\r\n+deep\r\n$-1\r\n*2\r\n*0\r\n:5\r\n'),
  Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n'),
]);
const want: RespValue[] = [
  'OK', '', new RespErrorReply('ERR wrong type'), 0, -42, 1234567, Buffer.from('foo'), Buffer.alloc(0), null, Buffer.from('a\r\nb'), null, [],
  [Buffer.from('x'), [1, ['deep']], null], [[], 5], big,
];

test('RESP2 parser reads every type, nested and null arrays, binary-safe and big bulk in one chunk', () => {
  assert.deepEqual(parseAll([wire]), want);
});

test('RESP2 parser gives the same replies when the stream is split at every byte offset', () => {
  const small = wire.subarray(0, wire.length - big.length - `$${big.length}\r\n\r\n`.length);
  const smallWant = want.slice(0, -1);
  for (let i = 0; i <= small.length; i++) {
    assert.deepEqual(parseAll([small.subarray(0, i), small.subarray(i)]), smallWant, `split at ${i}`);
  }
  const bytes: Buffer[] = [];
  for (let i = 0; i < small.length; i++) bytes.push(small.subarray(i, i + 1));
  assert.deepEqual(parseAll(bytes), smallWant, 'one byte per chunk');
  assert.deepEqual(parseAll([wire.subarray(0, wire.length - 50_000), wire.subarray(wire.length - 50_000)]), want, 'big bulk split');
});

test('RESP2 parser rejects an unknown type byte', () => {
  assert.throws(() => parseAll([Buffer.from('?x\r\n')]), /protocol error/);
});

test('encodeCommand writes an array of bulk strings, byte lengths for UTF-8 and Buffers', () => {
  assert.equal(encodeCommand(['SET', 'k', 12]).toString(), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n');
  assert.equal(encodeCommand(['SET', 'é']).toString(), '*2\r\n$3\r\nSET\r\n$2\r\né\r\n');
  const enc = encodeCommand(['SET', Buffer.from([0, 13, 10]), 'v', Buffer.from('z')]);
  assert.deepEqual(enc, Buffer.concat([Buffer.from('*4\r\n$3\r\nSET\r\n$3\r\n'), Buffer.from([0, 13, 10]), Buffer.from('\r\n$1\r\nv\r\n$1\r\nz\r\n')]));
});

test('parseRedisUrl reads host, port, db, password, ACL user and TLS', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380/2'), { host: '127.0.0.1', port: 6380, tls: false, db: 2 });
  assert.deepEqual(parseRedisUrl('redis://:s%40cret@h'), { host: 'h', port: 6379, tls: false, db: 0, password: 's@cret' });
  assert.deepEqual(parseRedisUrl('rediss://alice:pw@h:1/0'), { host: 'h', port: 1, tls: true, db: 0, username: 'alice', password: 'pw' });
  assert.throws(() => parseRedisUrl('http://h'), /scheme/);
  assert.throws(() => parseRedisUrl('redis://h/x'), /database/);
});
