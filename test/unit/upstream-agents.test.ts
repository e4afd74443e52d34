// core/upstream/agents.ts: pooled upstream sockets time out only while they sit free (issue 10 item 8: an armed idle
// timer on a socket in use was refreshed by every read and write of a relayed body).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import { createAgents } from '../../src/core/upstream/agents.ts';
import { createDnsCache } from '../../src/core/upstream/dns-cache.ts';
import { waitFor } from '../helpers/origin.ts';

function get(agent: http.Agent, port: number): Promise<{ socket: Socket; timeoutInUse: number | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      const socket = res.socket as Socket;
      const timeoutInUse = socket.timeout;
      res.resume();
      res.once('end', () => resolve({ socket, timeoutInUse }));
    });
    req.once('error', reject);
  });
}

test('a pooled socket has no idle timer while a request uses it, gets one when free, and is closed when it fires', async (t) => {
  const server = http.createServer((_req, res) => res.end('ok'));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const agents = createAgents({ freeSocketTimeoutMs: 50 });
  t.after(() => agents.destroy());
  const port = (server.address() as AddressInfo).port;

  const first = await get(agents.http, port);
  assert.ok(!first.timeoutInUse, `no idle timer in use (was ${first.timeoutInUse})`);
  // Released on the next tick: the pool arms the timer then.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(first.socket.timeout, 50, 'armed while free');

  const second = await get(agents.http, port);
  assert.equal(second.socket, first.socket, 'the pooled socket was reused');
  assert.ok(!second.timeoutInUse, 'disarmed again when reused');

  await new Promise((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => second.socket.once('close', () => resolve()));
  assert.deepEqual(agents.snapshot(), [], 'the idle socket left the pool');
});

test('with a DNS cache, a provider host name is resolved once for many new sockets, and again after a refused connect', async (t) => {
  // Every answer closes its socket, so each request needs a new one (as a live channel's every open does).
  const server = http.createServer((_req, res) => res.end('ok'));
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const asked: string[] = [];
  const dns = createDnsCache({
    ttlMs: 60_000,
    resolveAll: (host, _options, callback) => {
      asked.push(host);
      setImmediate(() => callback(null, [{ address: '127.0.0.1', family: 4 }]));
    },
  });
  const agents = createAgents({ dns });
  t.after(() => agents.destroy());
  const fetchVia = (host: string, to: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host, port: to, path: '/', agent: agents.http, headers: { connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.once('end', () => resolve(body));
      });
      req.once('error', reject);
    });

  for (let i = 0; i < 3; i++) assert.equal(await fetchVia('provider.test', port), 'ok');
  assert.deepEqual(asked, ['provider.test'], 'three sockets, one lookup');

  // A port nobody listens on: the refused connect drops the cached address.
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await fetchVia('moved.test', deadPort).then(
    () => assert.fail('the connect should be refused'),
    (err: NodeJS.ErrnoException) => assert.equal(err.code, 'ECONNREFUSED'),
  );
  // The socket's 'close' comes in the loop's close phase, after the request's error.
  await waitFor(() => dns.size === 1, 2_000, 'moved.test forgotten, provider.test kept');
  await fetchVia('moved.test', deadPort).catch(() => undefined);
  assert.deepEqual(asked, ['provider.test', 'moved.test', 'moved.test'], 'asked again after the failure');
});
