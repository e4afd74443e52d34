import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendCallback } from '../../src/services/broadcast/callbacks.ts';

test('posts JSON with the broadcast user agent', async (t) => {
  const seen: Array<{ ua: string | undefined; body: string }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { seen.push({ ua: req.headers['user-agent'], body }); res.end('ok'); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const result = await sendCallback(`http://127.0.0.1:${port}/cb`, { event: 'programme_ended' }, { timeoutMs: 2000 });
  assert.deepEqual(result, { ok: true, status: 200 });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.ua, 'M3U-Proxy-Broadcast/1.0');
  assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { event: 'programme_ended' });
});

test('a refused connection is retried, then given up', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const result = await sendCallback(`http://127.0.0.1:${port}/cb`, {}, { timeoutMs: 500, backoffMs: [1, 1, 1] });
  assert.equal(result.ok, false);
});

test('a slow receiver times out once and is not retried', async (t) => {
  let hits = 0;
  const server = createServer(() => { hits++; /* never answers */ });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const port = (server.address() as AddressInfo).port;
  const result = await sendCallback(`http://127.0.0.1:${port}/cb`, {}, { timeoutMs: 100, backoffMs: [1, 1, 1] });
  assert.equal(result.ok, false);
  assert.equal(hits, 1);
});
