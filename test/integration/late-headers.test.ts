// http/late-headers.ts: headers set late (a playback route's CORS headers) are on every answer, however and whenever
// the route writes its head: synchronously, after the event loop's next turn, or implicitly through end().
import assert from 'node:assert/strict';
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { LateHeadersResponse } from '../../src/http/late-headers.ts';

function fetchHeaders(port: number, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res));
    }).once('error', reject);
  });
}

test('late headers reach an answer written at once, one written later, and an implicit head, each set once', async (t) => {
  let sets = 0;
  const server = createServer<typeof IncomingMessage, typeof LateHeadersResponse>({ ServerResponse: LateHeadersResponse }, (req, res) => {
    res.setLateHeaders(() => {
      sets++;
      res.setHeader('x-late', 'yes');
    });
    if (req.url === '/now') {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
      return;
    }
    void nextTurn().then(async () => {
      await nextTurn();
      if (req.url === '/later') {
        res.writeHead(200, 'Fine', { 'content-type': 'text/plain' });
        res.end('body');
      } else {
        res.statusCode = 404;
        res.end('gone');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;

  const now = await fetchHeaders(port, '/now');
  assert.equal(now.statusCode, 302);
  assert.equal(now.headers['x-late'], 'yes', 'written before the late headers had their turn');
  assert.equal(now.headers.location, '/elsewhere');

  const later = await fetchHeaders(port, '/later');
  assert.equal(later.statusCode, 200);
  assert.equal(later.statusMessage, 'Fine', 'a reason phrase still goes through');
  assert.equal(later.headers['x-late'], 'yes');
  assert.equal(later.headers['content-type'], 'text/plain');

  const implicit = await fetchHeaders(port, '/implicit');
  assert.equal(implicit.statusCode, 404);
  assert.equal(implicit.headers['x-late'], 'yes', 'res.end() without writeHead');
  assert.equal(sets, 3, 'set once per answer');
});
