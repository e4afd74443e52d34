// issue 24.8: a player's first bytes go to the kernel in the tick they were written, not after the rest of it.
import assert from 'node:assert/strict';
import { createServer, get, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { sendNow } from '../../src/core/send-now.ts';

/** Answers one GET with `answer(res)`, and resolves with the body the client read. */
async function serveOnce(t: import('node:test').TestContext, answer: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((_req, res) => answer(res));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

test('sendNow hands the headers and the first chunk to the kernel at once; Node would hold them until the next tick', async (t) => {
  const seen: Array<{ corked: number; pending: number }> = [];
  const body = await serveOnce(t, (res) => {
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    res.write('first');
    const socket = res.socket;
    assert.ok(socket);
    seen.push({ corked: socket.writableCorked, pending: socket.writableLength });
    sendNow(res);
    seen.push({ corked: socket.writableCorked, pending: socket.writableLength });
    res.write('-second'); // later writes batch as before
    res.end();
  });
  assert.equal(body, 'first-second');
  assert.ok(seen[0] && seen[0].corked > 0 && seen[0].pending > 0, 'Node corks the socket: the bytes wait for the next tick');
  assert.deepEqual(seen[1], { corked: 0, pending: 0 }, 'after sendNow nothing waits');
});
