// core/upstream/agents.ts: pooled upstream sockets time out only while they sit free (issue 10 item 8: an armed idle
// timer on a socket in use was refreshed by every read and write of a relayed body).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import { createAgents } from '../../src/core/upstream/agents.ts';

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
